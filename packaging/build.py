#!/usr/bin/env python3
"""Build the desktop bundle and check it works (docs/packaging.md).

    .venv/bin/pip install -e ".[packaging]"
    .venv/bin/python packaging/build.py [--clip CLIP] [--skip-build]

1. PyInstaller builds packaging/dance_analysis.spec into dist/dance-analysis/ (work files
   in build/pyinstaller/; both folders are ignored by git).
2. The bundle's ``analyze`` runs on the shared clip; result.json must hold landmarks.
   The same clip is analysed from the venv, for comparison.
3. The bundle's window starts offscreen and quits by itself (``--quit-after-s``); it must
   exit 0. Then it opens the clip, analyses it as a job (the queue spawns an analysis
   child from the bundle's executable), shows the result, saves its views and quits.

Prints the build time, the folder's size and both analyze times; exits non-zero on the
first failure. Standard library only. Slow (minutes): not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "dance_analysis.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
BUNDLE = DIST / "dance-analysis"
EXE_SUFFIX = ".exe" if os.name == "nt" else ""
DEFAULT_CLIP = ROOT.parent / "shared" / "data" / "pose_squats.mp4"
WINDOW_SECONDS = 5.0


def _size_mib(folder: Path) -> float:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return total / 2**20


def _step(text: str) -> None:
    print(f"== {text}", flush=True)


def build() -> float:
    _step(f"building {SPEC.relative_to(ROOT)} into {BUNDLE.relative_to(ROOT)}/")
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(DIST), "--workpath", str(WORK), str(SPEC)],
        cwd=ROOT, check=True,
    )  # fmt: skip
    return time.perf_counter() - started


def analyze(command: list[str], clip: Path, out: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "analyze", str(clip), "--out", str(out), "--quiet"],
        env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    print(done.stdout.strip())
    if done.returncode != 0:
        sys.exit(f"analyze failed ({done.returncode}):\n{done.stderr}")
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    frames = result["frames"]
    with_landmarks = [f for f in frames if f.get("landmarks")]
    if not with_landmarks:
        sys.exit(f"{out / 'result.json'} has no landmarks")
    model = result["model"]
    if model["backend"] not in ("litert", "mediapipe"):
        sys.exit(f"analysed with the {model['backend']} backend, not our graph on LiteRT")
    print(
        f"   result.json: {len(frames)} frames, {len(with_landmarks)} with landmarks, "
        f"{model['model']}, detected device {model['detected_device']}"
    )
    return elapsed


def window(program: Path, data_dir: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [str(program), "gui", "--data-dir", str(data_dir), "--port", "0",
         "--quit-after-s", str(WINDOW_SECONDS)],
        env={**env, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"the window exited with {done.returncode}:\n{done.stderr}")
    return elapsed


def window_job(program: Path, clip: Path, work: Path, env: dict[str, str]) -> float:
    """The window imports the clip; its job queue analyses it in a spawned child; once the
    result is shown, the window saves its views and quits (``--screenshots``)."""
    shots = work / "screenshots"
    started = time.perf_counter()
    done = subprocess.run(
        [str(program), "gui", "--data-dir", str(work / "data-job"), "--port", "0",
         "--open", str(clip), "--screenshots", str(shots)],
        env={**env, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"the window's job run exited with {done.returncode}:\n{done.stderr}")
    results = list((work / "data-job").rglob("result.json"))
    saved = sorted(p.name for p in shots.glob("*.png"))
    if not results or not saved:
        sys.exit(f"the window's job left no result ({results}) or no views ({saved})")
    print(f"   job finished: {results[0]}; views saved: {', '.join(saved)}")
    return elapsed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP, help="the clip to analyse")
    parser.add_argument("--skip-build", action="store_true", help="check the existing bundle")
    args = parser.parse_args(argv)
    if not args.clip.is_file():
        sys.exit(f"no clip at {args.clip}: pass --clip")

    build_s = None if args.skip_build else build()
    program = BUNDLE / f"dance-analysis{EXE_SUFFIX}"
    if not program.is_file():
        sys.exit(f"no bundle at {BUNDLE}: build it first")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANCE_")}
    env["USE_MOCK_ANALYSIS"] = "false"

    with tempfile.TemporaryDirectory(prefix="dance-bundle-") as tmp:
        work = Path(tmp)
        _step("analyze from the bundle")
        bundle_s = analyze([str(program)], args.clip, work / "bundle", env)
        _step("analyze from the venv")
        venv_s = analyze([sys.executable, str(ROOT / "main.py")], args.clip, work / "venv", env)
        _step(f"the window, offscreen, {WINDOW_SECONDS:.0f} s")
        window_s = window(program, work / "data", env)
        _step("the window, offscreen, analysing the clip as a job (a spawned child)")
        job_s = window_job(program, args.clip, work, env)

    _step("figures")
    if build_s is not None:
        print(f"build time:            {build_s:7.1f} s")
    print(f"bundle size:           {_size_mib(BUNDLE):7.0f} MiB ({BUNDLE})")
    for name in (f"dance-analysis{EXE_SUFFIX}", f"dance-analysis-window{EXE_SUFFIX}"):
        print(f"  {name + ':':<21}{(BUNDLE / name).stat().st_size / 2**20:7.1f} MiB")
    print(f"analyze, bundle:       {bundle_s:7.1f} s")
    print(f"analyze, venv:         {venv_s:7.1f} s")
    print(f"window start and quit: {window_s:7.1f} s (incl. {WINDOW_SECONDS:.0f} s shown)")
    print(f"window, clip as a job: {job_s:7.1f} s (start, analyse, show, save views, quit)")
    if shutil.which("du"):
        subprocess.run(["du", "-sh", str(BUNDLE)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
