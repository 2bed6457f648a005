"""The whole `analyze` on real footage with the real model: accuracy, schema, artifacts.

The squats clip is analysed once per session (about 5 s) and shared by the checks.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from dance_analysis.pipeline import PipelineOptions, analyze_clip
from dance_analysis.skeleton import BLAZEPOSE_33, COCO_17
from tests.conftest import REPO
from tests.media import ffmpeg

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def squats_result(squats_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("squats")
    analyze_clip(squats_clip, out)
    return out


def _load(out: Path) -> dict:
    return json.loads((out / "result.json").read_text())


def test_landmarks_match_the_published_reference(
    squats_result: Path, squats_reference: Path
) -> None:
    result = _load(squats_result)
    reference = np.array(json.loads(squats_reference.read_text()))[:, :, :2]  # (65, 33, 2) px
    width, height = result["video"]["width"], result["video"]["height"]
    assert (width, height) == (720, 1280)
    frames = result["frames"]
    assert len(frames) == len(reference) == 65
    assert all(f["landmarks"] is not None for f in frames)
    ours = np.array([f["landmarks"] for f in frames])[:, :, :2] * (width, height)
    error = np.linalg.norm(ours - reference, axis=-1)
    print(f"mean {error.mean():.2f} px, p95 {np.percentile(error, 95):.2f} px")
    assert error.mean() <= 6.0
    assert np.percentile(error, 95) <= 12.0


def test_result_follows_the_documented_schema(squats_result: Path) -> None:
    import jsonschema

    schema = json.loads((REPO / "docs" / "result.schema.json").read_text())
    result = _load(squats_result)
    jsonschema.Draft202012Validator(schema).validate(result)
    assert result["skeleton"]["joints"] == list(BLAZEPOSE_33.joints)
    assert {k: result["model"][k] for k in ("backend", "model", "device")} == {
        "backend": "litert",  # auto on a machine without a GPU: our own graph on LiteRT
        "model": "blazepose_ghum_full",
        "device": "cpu",
    }
    video = result["video"]
    assert video["frame_count"] == 65 and video["fps"] == pytest.approx(5.0, rel=0.01)
    assert video["rotation"] == 0 and video["has_audio"] is False
    assert len(video["sha256"]) == 64
    t_ms = [f["t_ms"] for f in result["frames"]]
    assert t_ms[0] == 0 and t_ms[1] == pytest.approx(200.0) and np.all(np.diff(t_ms) > 0)
    # Every angle has one value per frame and a summary; squats really bend the knees.
    for name, series in result["angles"]["series"].items():
        assert len(series) == 65, name
    knee = result["angles"]["summary"]["left_knee"]
    assert knee["min"] < 120 < 160 < knee["max"]
    assert result["feedback"], "a clip of squats deserves at least one remark"


def test_csv_and_coco17_agree_with_the_result(squats_result: Path) -> None:
    result = _load(squats_result)
    with (squats_result / "landmarks.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 65 * 33
    row = rows[33 * 10 + 25]  # frame 10, left knee
    assert row["joint"] == "left_knee" and int(row["frame"]) == 10
    assert float(row["x"]) == pytest.approx(result["frames"][10]["landmarks"][25][0], abs=1e-5)

    with (squats_result / "angles.csv").open() as f:
        angle_rows = list(csv.DictReader(f))
    assert len(angle_rows) == 65
    assert float(angle_rows[10]["left_knee_deg"]) == pytest.approx(
        result["angles"]["series"]["left_knee"][10], abs=1e-3
    )

    coco = json.loads((squats_result / "coco17.json").read_text())
    assert len(coco["pose_data"]) == 65
    first = coco["pose_data"][1]
    assert first["timestamp"] == pytest.approx(0.2)
    assert [k["name"] for k in first["keypoints"]] == list(COCO_17.joints)
    hip = first["keypoints"][COCO_17.joints.index("left_hip")]
    assert hip["x"] == pytest.approx(result["frames"][1]["landmarks"][23][0], abs=1e-5)
    assert set(hip) == {"name", "x", "y", "confidence"}


def test_overlay_is_browser_ready_h264_with_the_sources_timing(
    squats_result: Path, squats_clip: Path
) -> None:
    overlay = squats_result / "overlay.mp4"
    with av.open(str(overlay)) as out, av.open(str(squats_clip)) as src:
        stream = out.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert not out.streams.audio
        ours = [round(float(f.pts * f.time_base) * 1000, 1) for f in out.decode(stream)]
        theirs = [round(float(f.pts * f.time_base) * 1000, 1) for f in src.decode(video=0)]
    assert ours == theirs
    head = overlay.read_bytes()[:4096]
    assert head.find(b"moov") < head.find(b"mdat") or b"mdat" not in head  # faststart


def test_overlay_draws_the_skeleton_where_the_landmarks_are(
    squats_result: Path, squats_clip: Path
) -> None:
    result = _load(squats_result)
    with av.open(str(squats_result / "overlay.mp4")) as out, av.open(str(squats_clip)) as src:
        drawn = next(iter(out.decode(video=0))).to_ndarray(format="rgb24").astype(int)
        plain = next(iter(src.decode(video=0))).to_ndarray(format="rgb24").astype(int)
    changed = np.abs(drawn - plain).sum(axis=2) > 60
    x, y = np.array(result["frames"][0]["landmarks"])[25, :2] * (720, 1280)  # left knee
    near_knee = changed[int(y) - 6 : int(y) + 7, int(x) - 6 : int(x) + 7]
    far_corner = changed[:100, :100]
    assert near_knee.mean() > 0.3, "the knee joint should be drawn"
    assert far_corner.mean() < 0.01, "nothing is drawn far from the dancer"


def test_overlay_keeps_the_sources_audio(squats_clip: Path, tmp_path: Path) -> None:
    with_tone = tmp_path / "tone.mp4"
    ffmpeg(
        "-i", squats_clip, "-f", "lavfi", "-i", "sine=frequency=440:duration=13",
        "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-shortest", with_tone,
    )  # fmt: skip
    out = tmp_path / "out"
    analyze_clip(with_tone, out, PipelineOptions(backend="mock"))
    result = _load(out)
    assert result["video"]["has_audio"] is True
    with av.open(str(out / "overlay.mp4")) as overlay:
        assert overlay.streams.audio and overlay.streams.audio[0].codec_context.name == "aac"
        samples = sum(frame.samples for frame in overlay.decode(audio=0))
    assert samples > 44100 * 10  # the tone is there, not just an empty stream


def test_rotated_clip_gives_upright_landmarks(squats_clip: Path, tmp_path: Path) -> None:
    # Store the frames turned 90° clockwise, tagged so a player turns them back.
    rotated = tmp_path / "rotated.mp4"
    cut = tmp_path / "cut.mp4"
    ffmpeg(
        "-i",
        squats_clip,
        "-t",
        "2",
        "-vf",
        "transpose=1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        cut,
    )
    ffmpeg("-display_rotation", "90", "-i", cut, "-c", "copy", rotated)
    out = tmp_path / "out"
    analyze_clip(rotated, out, PipelineOptions(overlay=False))
    result = _load(out)
    assert result["video"]["rotation"] in (90, 270)
    assert (result["video"]["width"], result["video"]["height"]) == (720, 1280)
    for frame in result["frames"]:
        points = np.array(frame["landmarks"])
        nose_y, hip_y, ankle_y = points[[0, 23, 27], 1]
        assert nose_y < hip_y < ankle_y


def test_variable_frame_rate_keeps_the_containers_timestamps(
    squats_clip: Path, tmp_path: Path
) -> None:
    vfr = tmp_path / "vfr.mp4"
    # Frame times 0, 0.2, 0.3, 0.6, 0.7, 1.0, …: alternating 100 ms and 300 ms gaps.
    ffmpeg(
        "-i", squats_clip, "-t", "3", "-vf", "setpts='(N*0.2+0.1*mod(N,2)*(-1)^N)/TB'",
        "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast", vfr,
    )  # fmt: skip
    with av.open(str(vfr)) as container:
        stream = container.streams.video[0]
        expected = sorted(
            float(p.pts * stream.time_base) * 1000
            for p in container.demux(stream)
            if p.pts is not None
        )
    out = tmp_path / "out"
    analyze_clip(vfr, out, PipelineOptions(backend="mock"))
    result = _load(out)
    t_ms = np.array([f["t_ms"] for f in result["frames"]])
    assert np.all(np.diff(t_ms) > 0)
    assert len(t_ms) == len(expected)
    np.testing.assert_allclose(t_ms, np.array(expected) - expected[0], atol=1.0)
    assert result["video"]["variable_frame_rate"] is True


def test_no_person_finishes_with_zero_coverage_and_a_warning(tmp_path: Path) -> None:
    empty_stage = tmp_path / "empty.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=320x240:r=10:d=2",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        empty_stage,
    )
    out = tmp_path / "out"
    outcome = analyze_clip(empty_stage, out)
    assert outcome.frames_with_person == 0
    text = (out / "result.json").read_text()
    assert "NaN" not in text
    result = json.loads(text)
    assert result["coverage"] == 0
    assert [w["reason"] for w in result["warnings"]] == ["no_person_detected"]
    assert all(f["landmarks"] is None for f in result["frames"])


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b""), "empty_file"),
        (lambda p: p.write_bytes(b"%PDF-1.4\n" + b"x" * 2000), "not_a_video"),
    ],
)
def test_cli_refuses_a_bad_clip_in_one_line(tmp_path: Path, make, reason: str) -> None:
    clip = tmp_path / "clip.mp4"
    make(clip)
    done = _cli("analyze", clip, "--out", tmp_path / "out")
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and f"[{reason}]" in lines[0]
    assert not (tmp_path / "out" / "result.json").exists()


def test_cli_writes_every_artifact_and_no_partial_folder(squats_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = _cli("analyze", squats_clip, "--out", out, "--backend", "mock")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "analysis.json", "angles.csv", "angles.mot", "coco17.json", "keypoints_2d.json",
        "keypoints_3d.json", "kinovea.kva", "landmarks.csv", "markers.trc", "overlay.mp4",
        "people.json", "report.html", "result.json", "skeleton.bvh",
    ]  # fmt: skip


def test_help_loads_no_heavy_library() -> None:
    code = (
        "import sys, main\n"
        "try:\n    main.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'numpy', 'cv2', 'av', 'torch', 'mediapipe', 'scipy', 'pydantic', 'rich'}\n"
        "heavy &= set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.stdout.strip().splitlines()[-1] == "[]"


# --- music (issue 8): the pipeline wires dance_analysis.music into result.json -----------


def test_cli_finds_the_tempo_and_counts_of_a_drum_track(squats_clip: Path, tmp_path: Path) -> None:
    from tests.music.synth import drum_song, mux_under_video

    song = drum_song(124, seconds=10.0, offset_s=0.37, seed=124)
    clip = mux_under_video(song.samples, tmp_path / "groove.mp4", seconds=10.0, video=squats_clip)
    out = tmp_path / "out"
    done = _cli("analyze", clip, "--out", out, "--backend", "mock", "--style", "auto", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "at 124 BPM (4/4)" in done.stdout and "eight-count" in done.stdout
    music = _load(out)["music"]
    assert music["present"] is True and "reason" not in music
    assert abs(music["tempo_bpm"] - 124) <= 0.01 * 124
    assert music["style"] == "auto" and music["beats_per_bar"] == 4
    # The counts start on the "1" the drums accent: a downbeat near a true one.
    first = music["counts"][0]
    assert (first["count"], first["phrase"]) == (1, 0)
    assert first["t_ms"] in music["downbeats_ms"]
    assert min(abs(first["t_ms"] - 1000 * t) for t in song.downbeats_s) <= 30.0
    # On the clip's clock: nothing before the first frame or after the last.
    duration_ms = 1000 * _load(out)["video"]["duration_s"]
    assert all(0 <= t <= duration_ms for t in music["beats_ms"])
    # Timing and counts reach the result: the mock dancer's slow squats make no accents,
    # so timing says so, and every feedback item inside the music names its count.
    result = _load(out)
    assert result["timing"]["accents_ms"] == [] and result["timing"]["by_phrase"]
    assert all(p["mean_offset_ms"] is None for p in result["timing"]["by_phrase"])
    messages = [item["message"] for item in result["feedback"]]
    assert any("timing not measured" in message for message in messages)
    first_count, last_count = music["counts"][0]["t_ms"], music["counts"][-1]["t_ms"]
    inside = [i for i in result["feedback"] if first_count <= i["time_ms"] <= last_count]
    assert inside and all(item["count"]["label"].startswith("count ") for item in inside)
    import jsonschema

    schema = json.loads((REPO / "docs" / "result.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(result)


def test_a_clip_without_sound_has_no_music(squats_clip: Path, tmp_path: Path) -> None:
    import jsonschema

    out = tmp_path / "out"
    done = _cli("analyze", squats_clip, "--out", out, "--backend", "mock", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "no music found: the clip has no sound" in done.stdout
    result = _load(out)
    assert result["music"]["present"] is False
    assert result["music"]["reason"] == "no_audio"
    assert result["music"]["tempo_bpm"] is None and result["music"]["counts"] == []
    assert result["timing"]["offsets_ms"] == [] and result["timing"]["mean_offset_ms"] is None
    assert all(item["count"] is None for item in result["feedback"])
    schema = json.loads((REPO / "docs" / "result.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(result)


def test_style_is_passed_to_the_tempo_search(squats_clip: Path, tmp_path: Path) -> None:
    from tests.music.synth import drum_song, mux_under_video

    # Accents on every other beat: auto may read it at half time; cha-cha may not.
    song = drum_song(124, seconds=10.0, offset_s=0.37, half_time_accents=True, seed=7)
    clip = mux_under_video(song.samples, tmp_path / "half.mp4", seconds=10.0, video=squats_clip)
    analyze_clip(clip, tmp_path / "out", PipelineOptions(backend="mock", style="cha-cha"))
    music = _load(tmp_path / "out")["music"]
    assert music["style"] == "cha-cha"
    assert abs(music["tempo_bpm"] - 124) <= 0.01 * 124


def test_an_unknown_style_from_the_environment_is_a_clear_error(
    squats_clip: Path, tmp_path: Path
) -> None:
    import os

    done = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "analyze", str(squats_clip), "--out",
         str(tmp_path / "out"), "--backend", "mock", "--quiet"],
        capture_output=True, text=True, cwd=REPO, env={**os.environ, "DANCE_STYLE": "polka"},
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "[unknown_style]" in lines[0] and "cha-cha" in lines[0]
    assert not (tmp_path / "out" / "result.json").exists()


def test_beats_outside_the_picture_are_dropped_and_counts_keep_their_one() -> None:
    from dance_analysis.music.model import Music, with_first_downbeat
    from dance_analysis.pipeline import _within

    beats = [-1000.0 + 500.0 * i for i in range(20)]  # -1000 .. 8500 ms
    music = with_first_downbeat(
        Music(present=True, style="auto", method="m", tempo_bpm=120.0, beats_ms=beats), 0
    )
    ones = {c.t_ms for c in music.counts if c.count == 1}
    inside = _within(music, 6000.0)
    assert inside.beats_ms == [t for t in beats if 0 <= t <= 6000.0]
    assert all(0 <= t <= 6000.0 for t in inside.downbeats_ms)
    assert inside.counts[0].count == 1 and inside.counts[0].phrase == 0
    assert {c.t_ms for c in inside.counts if c.count == 1} <= ones
    assert set(inside.downbeats_ms) <= set(music.downbeats_ms)
