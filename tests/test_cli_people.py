"""`analyze --dancer` and `--backend`: what a person typing them sees, and the exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.media import make_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4")


def _cli(*args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DANCE_", "USE_MOCK"))}
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *map(str, args)],
        capture_output=True, text=True, cwd=REPO, env={**clean, **env}, timeout=120,
    )  # fmt: skip


def test_dancer_picks_the_person_and_says_so(clip: Path, tmp_path: Path) -> None:
    done = _cli(
        "analyze", clip, "--out", tmp_path, "--backend", "mock", "--dancer", "1", "--quiet",
        DANCE_MOCK_PEOPLE="2",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "dancer 1 of 2 people" in done.stdout
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["dancer_id"] == 1 and result["people_seen"] == 2
    assert (tmp_path / "people.json").is_file()


def test_a_dancer_not_in_the_clip_is_refused_with_the_ids_there_are(
    clip: Path, tmp_path: Path
) -> None:
    done = _cli(
        "analyze", clip, "--out", tmp_path, "--backend", "mock", "--dancer", "7", "--quiet",
        DANCE_MOCK_PEOPLE="2",
    )  # fmt: skip
    assert done.returncode == 3
    line = done.stderr.strip().splitlines()[-1]
    assert line.endswith("[no_such_dancer]"), line
    assert "There is no dancer 7 in this clip" in line and "ids 1 and 2" in line
    assert not (tmp_path / "result.json").exists()


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_a_dancer_id_is_a_whole_number_from_one(clip: Path, tmp_path: Path, value: str) -> None:
    done = _cli("analyze", clip, "--out", tmp_path, "--dancer", value)
    assert done.returncode == 2
    assert "is not a dancer id: use a whole number from 1" in done.stderr


def test_backend_choices_come_from_the_pose_package(clip: Path, tmp_path: Path) -> None:
    done = _cli("analyze", clip, "--out", tmp_path, "--backend", "openpose")
    assert done.returncode == 2
    assert "(choose from 'auto', 'torch', 'litert', 'mediapipe', 'mock')" in done.stderr


def test_an_unknown_backend_from_the_environment_has_its_reason(clip: Path, tmp_path: Path) -> None:
    done = _cli("analyze", clip, "--out", tmp_path, DANCE_POSE_BACKEND="openpose")
    assert done.returncode == 2
    line = done.stderr.strip().splitlines()[-1]
    assert line == (
        "dance-analysis: “openpose” is not a pose backend we have. "
        "Choose one of: auto, torch, litert, mediapipe, mock. [unknown_backend]"
    )
