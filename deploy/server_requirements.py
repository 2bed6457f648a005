"""Print the project's dependencies a server image needs, one per line (pip -r format).

    python deploy/server_requirements.py pyproject.toml > requirements.txt

The Dockerfile installs these before copying the source, so the dependency layer is
cached across code changes. The desktop-only packages (Qt and its plots) are left out:
`serve` and `worker` never import ``gui``, and PySide6 alone is several hundred MB.
Standard library only on Python 3.11+ (the image's Debian Python is 3.11).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (the image has 3.11)
    import tomli as tomllib  # type: ignore[no-redef]

DESKTOP_ONLY = frozenset({"pyside6", "pyqtgraph"})


def _name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise ValueError(f"not a requirement: {requirement!r}")
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def server_requirements(pyproject: Path) -> list[str]:
    with pyproject.open("rb") as source:
        project = tomllib.load(source)["project"]
    return [dep for dep in project["dependencies"] if _name(dep) not in DESKTOP_ONLY]


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")
    print("\n".join(server_requirements(path)))
