"""The image installs the project's dependencies except the desktop's Qt."""

from __future__ import annotations

import subprocess
import sys

from tests.deploy.tools import REPO

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


def test_every_dependency_but_the_desktops() -> None:
    listed = subprocess.run(
        [sys.executable, str(REPO / "deploy" / "server_requirements.py"),
         str(REPO / "pyproject.toml")],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    with (REPO / "pyproject.toml").open("rb") as source:
        dependencies = tomllib.load(source)["project"]["dependencies"]
    desktop = [dep for dep in dependencies if dep.lower().startswith(("pyside6", "pyqtgraph"))]
    assert len(desktop) == 2
    assert listed == [dep for dep in dependencies if dep not in desktop]


def test_a_server_never_imports_qt() -> None:
    """What the image leaves out must stay unneeded by `serve`, `worker` and `analyze`."""
    code = (
        "import sys, main, api.app, dance_analysis.jobs.service, dance_analysis.pipeline\n"
        "main._build_parser()\n"
        "qt = ('PySide6', 'pyqtgraph', 'gui')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in qt)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)
