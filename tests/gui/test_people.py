"""Everyone in the frame in the desktop player: the others drawn faintly, and a click
on one of them asking the job service to analyse that dancer.

The window runs over a real job service in the documented mock mode's two-dancer
scene (``mock_people=2``): a small figure at the left (id 1) and the main dancer
(id 2), whom the rule chooses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt

from gui.player import ANALYSE_DANCER
from tests.gui.conftest import choose_in_next_popup
from tests.media import make_clip


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "duo.mp4")


def test_a_click_on_the_other_dancer_asks_for_their_analysis(
    qtbot: Any, open_desktop: Any, clip: Path
) -> None:
    desktop = open_desktop(mock_people=2)
    window = desktop.window
    window.resize(1100, 800)
    window.import_files([clip])
    qtbot.waitUntil(lambda: len(window.library.views) == 1, timeout=10_000)
    (job_id,) = window.library.views
    qtbot.waitUntil(lambda: desktop.service.get(job_id).status == "finished", timeout=60_000)
    player = window.player
    qtbot.waitUntil(
        lambda: player.result is not None and player.result.dancer_id == 2, timeout=20_000
    )
    assert player.result.people_seen == 2

    player.seek_frame(5)  # both dancers are in the frame
    qtbot.waitUntil(lambda: player.index == 5, timeout=10_000)
    canvas = player.canvas
    canvas.grab()  # paint: the other dancer is drawn, faintly, beside the dancer
    assert canvas.drawn_points and canvas.drawn_other_points
    (other,) = player.result.others_at(5)
    assert other.id == 1
    assert max(p.x() for p in canvas.drawn_other_points) < min(p.x() for p in canvas.drawn_points)

    # A click on the dancer already analysed offers nothing; on the other one, the menu.
    centre = canvas.box_rect(other.box).center().toPoint()
    assert canvas.person_at(canvas.box_rect(other.box).center()) == 1
    chosen = choose_in_next_popup(ANALYSE_DANCER)
    with qtbot.waitSignal(player.dancer_requested, timeout=10_000) as asked:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=centre)
    assert chosen == [ANALYSE_DANCER]
    assert asked.args == [1]

    # The job service was asked for dancer 1 on the same clip: a new job, the old kept.
    qtbot.waitUntil(lambda: len(window.library.views) == 2, timeout=10_000)
    assert "service.analyse_dancer" in [call.name for call in desktop.calls]
    (new_id,) = (i for i in window.library.views if i != job_id)
    new = desktop.service.get(new_id)
    assert new.dancer_id == 1 and new.sha256 == desktop.service.get(job_id).sha256
    qtbot.waitUntil(lambda: desktop.service.get(new_id).status == "finished", timeout=60_000)
    assert desktop.service.get(new_id).people["dancer_id"] == 1


def test_a_click_beside_everyone_offers_nothing(qtbot: Any, open_desktop: Any, clip: Path) -> None:
    desktop = open_desktop(mock_people=2)
    window = desktop.window
    window.import_files([clip])
    qtbot.waitUntil(lambda: len(window.library.views) == 1, timeout=10_000)
    player = window.player
    qtbot.waitUntil(lambda: player.result is not None, timeout=60_000)
    player.seek_frame(5)
    qtbot.waitUntil(lambda: player.index == 5, timeout=10_000)
    canvas = player.canvas
    dancer_box = canvas.image_rect()
    # The dancer (2) is not "another person"; an empty corner is nobody.
    middle = QPoint(int(dancer_box.center().x()), int(dancer_box.center().y()))
    assert canvas.person_at(dancer_box.center()) is None
    corner = QPoint(int(dancer_box.right()) - 2, int(dancer_box.top()) + 2)
    with qtbot.assertNotEmitted(player.dancer_requested, wait=200):
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=middle)
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=corner)
