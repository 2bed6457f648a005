"""Job states and stages are enums, but every client still sees the same plain strings."""

from __future__ import annotations

import json
import logging

import pytest

from dance_analysis.errors import Reason
from dance_analysis.jobs.states import ENDED, JobStatus
from dance_analysis.stages import Stage

# The strings the API has always sent: a client switches on them.
STATUS_VALUES = ["awaiting_upload", "queued", "started", "finished", "failed", "canceled"]
STAGE_VALUES = ["fetch", "probe", "pose", "measure", "write", "publish"]


def test_the_values_are_the_contract() -> None:
    assert [status.value for status in JobStatus] == STATUS_VALUES
    assert [stage.value for stage in Stage] == STAGE_VALUES
    assert {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED} == ENDED


@pytest.mark.parametrize("member", [*JobStatus, *Stage, Reason.NOT_A_VIDEO, Reason.TIMEOUT])
def test_a_member_reads_as_its_value_everywhere(
    member: JobStatus | Stage | Reason, caplog: pytest.LogCaptureFixture
) -> None:
    # Python 3.11 changed format() of str enums to "JobStatus.QUEUED": not for ours.
    assert str(member) == f"{member}" == format(member) == member.value
    assert f"{member:>10}" == f"{member.value:>10}"
    assert json.dumps({"status": member}) == json.dumps({"status": member.value})
    assert member == member.value and hash(member) == hash(member.value)
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("job is %s", member)
    assert caplog.records[-1].getMessage() == f"job is {member.value}"
