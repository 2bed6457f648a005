"""The stages one clip passes through, named once.

The pipeline reports ``probe`` to ``write``, the job worker adds ``fetch`` (the clip
comes to its machine) and ``publish`` (the results go to storage), the job row
records the current one, and the API and the GUI show it. It lives at the bottom
of the engine so the pipeline, the jobs and every client can share it.
"""

from __future__ import annotations

from dance_analysis.names import TextEnum


class Stage(TextEnum):
    """A stage's name; the value is what the job row and the API's JSON carry."""

    FETCH = "fetch"
    PROBE = "probe"
    POSE = "pose"
    MEASURE = "measure"
    WRITE = "write"
    PUBLISH = "publish"
