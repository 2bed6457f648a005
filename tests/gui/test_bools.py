"""Many signal emits must not abort the app.

PySide6 6.12.0's ``Signal.emit()`` steals a reference to ``True`` on every call, so a
session aborts with "bool_dealloc" after a few thousand emits on Python < 3.12 (pyqtgraph
emits on every paint). pyproject.toml pins ``pyside6<6.12``; this guards the pin.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
from PySide6.QtCore import QObject, Signal

class Source(QObject):
    changed = Signal(int)

source = Source()
source.changed.connect(lambda value: None)
for value in range(20_000):
    source.changed.emit(value)
print("ok")
"""


def test_twenty_thousand_emits_do_not_abort_the_process() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
