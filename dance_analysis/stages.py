"""The stages one clip passes through, named once.

The pipeline reports ``probe`` to ``write``, the job worker adds ``fetch`` (the clip
comes to its machine) and ``publish`` (the results go to storage), the job row
records the current one, and the API and the GUI show it. It lives at the bottom
of the engine so the pipeline, the jobs and every client can share it.
"""

from __future__ import annotations

from enum import Enum


class Stage(str, Enum):
    """A stage's name; the value is what the job row and the API's JSON carry."""

    FETCH = "fetch"
    PROBE = "probe"
    POSE = "pose"
    MEASURE = "measure"
    WRITE = "write"
    PUBLISH = "publish"

    # A str mixin formats as "Stage.POSE" on Python ≥ 3.11 (but "pose" on 3.10):
    # the value, everywhere, keeps messages and logs the same on every version.
    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)
