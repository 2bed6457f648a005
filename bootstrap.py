#!/usr/bin/env python3
"""Set up a virtual environment and run the app or the whole test suite.

    python3 bootstrap.py run  [main.py arguments]   # set up, then run the app
    python3 bootstrap.py test [pytest arguments]    # set up, then lint, type-check, test

Standard library only, so it works on a fresh machine with any Python 3.10–3.12.
The environment lives in ``.venv`` and is rebuilt only when this file or
``pyproject.toml`` changes (a stamp file records their hash).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".bootstrap-stamp"
SUPPORTED = ((3, 10), (3, 11), (3, 12))

# mediapipe 0.10.21 is the last release that ships the BlazePose models inside its wheel
# (later ones fetch them from the internet). Installed with --no-deps: its metadata asks
# for opencv-contrib-python (the GUI build, whose cv2 points Qt at its own plugins) and
# jax/jaxlib (~360 MB, never imported by pose estimation). pyproject.toml lists what it
# really imports, with the headless OpenCV in place of the GUI build.
MEDIAPIPE = "mediapipe==0.10.21"
# torch only answers "which accelerator is here?" (dance_analysis/pose/devices.py).
TORCH = "torch==2.13.0"

# What a real Qt window (platform xcb) and QtMultimedia need from Debian/Ubuntu; without
# them the app aborts at start (QT_QPA_PLATFORM=offscreen would hide it). Xvfb is for
# the test that opens the real window.
DEBIAN_PACKAGES_APP = (
    "libpulse0", "libxcb-cursor0", "libxkbcommon-x11-0", "libxcb-icccm4", "libxcb-image0",
    "libxcb-keysyms1", "libxcb-randr0", "libxcb-render-util0", "libxcb-shape0",
    "libxcb-xinerama0", "libxcb-xkb1", "libegl1", "libgl1", "libfontconfig1", "libdbus-1-3",
    "libglib2.0-0", "libxrender1", "libxi6", "libsm6", "libice6", "fonts-dejavu-core",
)  # fmt: skip
DEBIAN_PACKAGES_TEST = ("xvfb", "xauth", "chromium")


def _venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _find_interpreter() -> str:
    """This interpreter if supported, else the newest supported one on PATH."""
    if sys.version_info[:2] in SUPPORTED:
        return sys.executable
    for major, minor in reversed(SUPPORTED):
        found = shutil.which(f"python{major}.{minor}")
        if found:
            return found
    sys.exit(
        f"Python {sys.version_info.major}.{sys.version_info.minor} is not supported and no "
        "python3.10, python3.11 or python3.12 is on PATH. Install one of them and rerun."
    )


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "bootstrap.py"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _run(*cmd: str | os.PathLike[str], **kwargs: object) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


def ensure_system_packages(names: tuple[str, ...]) -> None:
    """Install missing Debian packages (Linux with apt only; elsewhere Qt's wheels suffice)."""
    if not sys.platform.startswith("linux") or not shutil.which("dpkg-query"):
        return
    query = ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}${Package}\\n", *names]
    listed = subprocess.run(query, capture_output=True, text=True, check=False).stdout
    present = {line[3:].split(":")[0] for line in listed.splitlines() if line.startswith("ii ")}
    missing = [name for name in names if name not in present]
    if not missing:
        return
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            print(f"Please install these system packages first: {' '.join(missing)}")
            return
        prefix = [sudo, "-n"]
    else:
        prefix = []
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(*prefix, "apt-get", "update", "-qq", env=env)
    _run(*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing, env=env)


def ensure_environment() -> Path:
    python = _venv_python()
    if STAMP.exists() and python.exists() and STAMP.read_text() == _fingerprint():
        return python
    interpreter = _find_interpreter()
    if not python.exists():
        if interpreter == sys.executable:
            venv.EnvBuilder(with_pip=True).create(VENV)
        else:
            _run(interpreter, "-m", "venv", VENV)
    pip = (python, "-m", "pip", "install", "--disable-pip-version-check")
    _run(*pip, "--upgrade", "pip")
    _run(*pip, "-e", ".[dev]")
    _run(*pip, "--no-deps", MEDIAPIPE)
    _run(*pip, TORCH)
    STAMP.write_text(_fingerprint())
    return python


def run_app(python: Path, args: list[str]) -> int:
    return subprocess.call([str(python), str(ROOT / "main.py"), *args], cwd=ROOT)


def run_tests(python: Path, args: list[str]) -> int:
    bindir = python.parent
    checks = [
        [str(bindir / "ruff"), "check", "."],
        [str(python), "-m", "mypy"],
        [str(bindir / "lint-imports")],
        # Two worker processes, a module's tests on one of them (its fixtures built once):
        # every test owns its data folder, database, queue name, bucket and ports, so the
        # workers share nothing but the machine. ``-n 0`` after it runs in one process.
        [str(python), "-m", "pytest", "-n", "2", "--dist", "loadscope", *args],
    ]
    for check in checks:
        print("+", " ".join(check), flush=True)
        code = subprocess.call(check, cwd=ROOT)
        if code != 0:
            return code
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "setup"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_system_packages(
        DEBIAN_PACKAGES_APP + (DEBIAN_PACKAGES_TEST if command == "test" else ())
    )
    python = ensure_environment()
    if command == "run":
        return run_app(python, rest)
    if command == "test":
        return run_tests(python, rest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
