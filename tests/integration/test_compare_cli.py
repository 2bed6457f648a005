"""`analyze STUDENT --reference TEACHER --out DIR` with the real model (issue 9, point 1).

Small cuts of the squats clip, made at test time (tests/media.py): both clips are
analysed by the real model, then compared by the engine's one comparing step.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.media import ffmpeg, make_clip

pytestmark = pytest.mark.slow

COMPARISON_NAMES = {
    "reference", "overall", "mirrored", "time_offset_ms", "tempo_ratio", "alignment",
    "parts", "segments", "formula_version",
}  # fmt: skip


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_cli_with_a_reference_writes_the_comparison_into_the_students_result(
    tmp_path: Path,
) -> None:
    import jsonschema

    # Four seconds (20 frames at 5 fps) at 180x320: small, and the model still finds her.
    student = make_clip(tmp_path / "student.mp4", start_s=2.0, seconds=4.0, size=(180, 320))
    teacher = make_clip(tmp_path / "teacher.mp4", start_s=2.0, seconds=4.0, size=(180, 320))
    out = tmp_path / "out"
    done = _cli("analyze", student, "--reference", teacher, "--out", out, "--quiet")
    assert done.returncode == 0, done.stderr
    assert "Compared with teacher.mp4: overall" in done.stdout

    result = _load(out / "result.json")
    assert result["model"]["backend"] == "litert"  # auto on a machine without a GPU
    comparison = result["comparison"]
    assert set(comparison) == COMPARISON_NAMES
    assert comparison["overall"] >= 95  # the same dance, filmed once
    assert comparison["reference"]["source"] == "teacher.mp4"
    teacher_result = _load(out / "reference" / "result.json")
    assert "comparison" not in teacher_result
    assert comparison["reference"]["sha256"] == teacher_result["video"]["sha256"]
    assert (out / "reference" / "overlay.mp4").is_file()
    assert (out / "ghost.mp4").is_file()  # the teacher's ghost over the student's video
    # Written through a temporary file, yet as readable as its neighbours (not 0600).
    modes = {name: (out / name).stat().st_mode & 0o777 for name in ("result.json", "ghost.mp4")}
    assert modes["result.json"] == modes["ghost.mp4"], modes

    topics = {item["topic"] for item in result["feedback"]}
    assert "comparison" in topics and topics - {"comparison"}  # merged with the analysis's
    times = [item["time_ms"] for item in result["feedback"]]
    assert times == sorted(times) and all("count" in item for item in result["feedback"])
    schema = json.loads((REPO / "docs" / "result.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(result)


def test_cli_says_in_one_line_when_the_reference_has_no_dancer(tmp_path: Path) -> None:
    student = make_clip(tmp_path / "student.mp4", start_s=2.0, seconds=4.0, size=(180, 320))
    empty = tmp_path / "empty.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "color=c=gray:s=180x320:r=5:d=4",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", empty,
    )  # fmt: skip
    out = tmp_path / "out"
    done = _cli("analyze", student, "--reference", empty, "--out", out, "--quiet")
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "[cannot_compare]" in lines[0] and "teacher" in lines[0]
    assert "comparison" not in _load(out / "result.json")  # the student's own analysis stays
