"""The dancer asked for travels with a job: into the analysis child, through a
re-analysis, and into a new job about another dancer on the same clip.

The service runs the documented mock mode's two-dancer scene (``mock_people=2``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dance_analysis.errors import InvalidRequest, MediaError, Reason
from dance_analysis.jobs.service import JobService
from tests.jobs.helpers import wait_status
from tests.jobs.services import make_settings


def _result(service: JobService, job_id: str) -> dict:
    path = service.open_artifact(job_id, "result").local_path
    assert path is not None
    return json.loads(path.read_text())


def test_a_dancer_goes_with_the_clip(tmp_path: Path, tiny_clip: Path) -> None:
    service = JobService(make_settings(tmp_path, mock_people=2))
    consumer = service.start_consumer()
    try:
        view = service.submit("duo.mp4", [tiny_clip.read_bytes()], dancer_id=1)
        assert wait_status(service, view.id, {"finished", "failed"}).status == "finished"
        done = service.get(view.id)
        assert done.dancer_id == 1
        assert done.people == {"dancer_id": 1, "people_seen": 2, "ids": [1, 2]}
        assert _result(service, view.id)["dancer_id"] == 1

        # Analysed again: the dancer asked for stays with the clip.
        again = service.reanalyse(view.id)
        assert again.dancer_id == 1
        assert wait_status(service, again.id, {"finished", "failed"}).status == "finished"
        assert _result(service, again.id)["dancer_id"] == 1

        # Another dancer: a new job on the stored clip; the first stays.
        other = service.analyse_dancer(again.id, 2)
        assert other.id != again.id and other.dancer_id == 2
        assert other.sha256 == again.sha256
        assert wait_status(service, other.id, {"finished", "failed"}).status == "finished"
        assert _result(service, other.id)["dancer_id"] == 2
        assert service.get(again.id).status == "finished"

        with pytest.raises(MediaError) as nobody:
            service.analyse_dancer(again.id, 3)
        assert nobody.value.reason is Reason.NO_SUCH_DANCER
        with pytest.raises(InvalidRequest):
            service.analyse_dancer(again.id, 0)
        assert len(service.list()) == 2
    finally:
        consumer.stop(5)
        service.close()
