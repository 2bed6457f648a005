"""The exports as a job's downloads: through the API's direct-upload flow (the real
job service in the documented mock mode), each fetched by its link with no token and
parsed back."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dance_analysis.artifacts import ARTIFACT_NAMES
from tests.api.conftest import fetch_result, running_api, upload_flow, wait_until_ended
from tests.exports.readers import read_bvh, read_mot, read_trc
from tests.media import make_clip
from tests.settings import make_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_a_jobs_downloads_offer_the_exports(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "tiny.mp4")
    async with running_api(make_settings(tmp_path / "data")) as api:
        accepted = await upload_flow(api.client, clip)
        status = await wait_until_ended(api.client, accepted["job_id"])
        assert status["status"] == "finished", status
        files = await fetch_result(api.client, accepted["job_id"], downloader=api.anonymous)
        headers = {
            name: (
                await api.client.get(f"/api/v1/jobs/{accepted['job_id']}/artifacts/{name}")
            ).headers
            for name in ("trc", "mot", "kva", "bvh", "report")
        }
    assert {"trc", "mot", "kva", "bvh"} <= set(files)
    result = json.loads(files["result"])
    frames = len(result["frames"])
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    assert read_trc(tmp_path / "trc").points.shape == (frames, 33, 3)
    assert read_mot(tmp_path / "mot").table.shape[0] == frames
    assert ET.fromstring(files["kva"]).tag == "KinoveaVideoAnalysis"
    assert len(read_bvh(tmp_path / "bvh").motion) == frames
    # Each offered as a file to save, of a type a browser and Kinovea recognise.
    types = {name: answer["content-type"] for name, answer in headers.items()}
    assert types == {
        "trc": "text/plain; charset=utf-8", "mot": "text/plain; charset=utf-8",
        "bvh": "text/plain; charset=utf-8", "kva": "application/xml",
        "report": "text/html; charset=utf-8",
    }  # fmt: skip
    for name in ("trc", "mot", "kva", "bvh"):
        file = ARTIFACT_NAMES[name]
        assert headers[name]["content-disposition"].startswith(f'attachment; filename="{file}"')
    # The report opens in the browser (a phone's "Report" link), under the shared
    # report's policy: no script runs and nothing is fetched.
    report = headers["report"]
    assert report["content-disposition"].startswith('inline; filename="report.html"')
    assert report["content-security-policy"].startswith("default-src 'none';")
