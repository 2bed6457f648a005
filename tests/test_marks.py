"""The coach's marks (issue 12): what a mark is, its angle, and every refusal with its reason."""

from __future__ import annotations

from typing import Any

import pytest

from dance_analysis.errors import InvalidMarks, Reason
from dance_analysis.marks import MAX_MARKS, MAX_TEXT, Mark, marks_document, parse_marks

ANGLE = {"kind": "angle", "t_ms": 400, "points": [[0.5, 0.2], [0.5, 0.5], [0.8, 0.5]]}
LINE = {"id": "l1", "kind": "line", "t_ms": 200.5, "points": [[0.1, 0.1], [0.9, 0.9]]}
NOTE = {"id": "n1", "kind": "note", "t_ms": 0, "points": [[0.3, 0.4]], "text": "Knees over toes"}


def test_marks_are_read_sorted_by_time_with_ids_filled() -> None:
    marks = parse_marks({"marks": [ANGLE, LINE, NOTE]})

    assert [mark.kind for mark in marks] == ["note", "line", "angle"]
    assert [mark.t_ms for mark in marks] == [0.0, 200.5, 400.0]
    angle = marks[2]
    assert len(angle.id) == 32 and angle.points == ((0.5, 0.2), (0.5, 0.5), (0.8, 0.5))
    assert marks[0].text == "Knees over toes"
    # marks.json's content reads back to the same marks (a bare list is taken too).
    document = marks_document(marks)
    assert document["version"] == 1
    assert parse_marks(document) == marks == parse_marks(document["marks"])


def test_an_angle_is_measured_in_pixels_of_the_picture() -> None:
    right = Mark("a", "angle", 0.0, ((0.5, 0.2), (0.5, 0.5), (0.8, 0.5)))
    assert right.degrees() == pytest.approx(90.0)
    # On a 1280x720 picture the same normalised points are still a right angle (axes).
    assert right.degrees(1280, 720) == pytest.approx(90.0)
    # A normalised diagonal is 45° on a square picture, atan(720/1280) on a 16:9 one.
    diagonal = Mark("d", "angle", 0.0, ((1.0, 0.0), (0.0, 0.0), (1.0, 1.0)))
    assert diagonal.degrees() == pytest.approx(45.0)
    assert diagonal.degrees(1280, 720) == pytest.approx(29.357, abs=1e-3)
    # Reflex turns are folded: the angle between the arms, 0–180°.
    wide = Mark("w", "angle", 0.0, ((0.0, 0.5), (0.5, 0.5), (1.0, 0.4)))
    assert 168.0 < (wide.degrees() or 0) <= 180.0
    assert Mark("l", "line", 0.0, ((0, 0), (1, 1))).degrees() is None


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("not marks", "list"),
        ({"marks": {"kind": "note"}}, "list"),
        ({"marks": [7]}, "object"),
        ({"marks": [with_(ANGLE, kind="circle")]}, "not a kind of mark"),
        ({"marks": [with_(ANGLE, t_ms="1s")]}, "number"),
        ({"marks": [with_(ANGLE, t_ms=True)]}, "number"),
        ({"marks": [with_(ANGLE, t_ms=float("nan"))]}, "finite"),
        ({"marks": [with_(ANGLE, t_ms=-1)]}, "before the clip starts"),
        ({"marks": [with_(ANGLE, points=[[0.1, 0.1], [0.2, 0.2]])]}, "three points"),
        ({"marks": [with_(LINE, points="0,0 1,1")]}, "two points"),
        ({"marks": [with_(LINE, points=[[0.1, 0.1], [0.2]])]}, "pair"),
        ({"marks": [with_(LINE, points=[[0.1, 0.1], [0.2, None]])]}, "number"),
        ({"marks": [with_(LINE, points=[[0.1, 0.1], [1.2, 0.5]])]}, "on the picture"),
        ({"marks": [with_(LINE, points=[[-0.1, 0.1], [0.5, 0.5]])]}, "on the picture"),
        ({"marks": [with_(NOTE, text=None)]}, "text must be text"),
        ({"marks": [with_(NOTE, text="   ")]}, "needs some text"),
        ({"marks": [with_(NOTE, text="x" * (MAX_TEXT + 1))]}, f"{MAX_TEXT} characters"),
        ({"marks": [with_(NOTE, id=12)]}, "id must be text"),
        ({"marks": [with_(NOTE, id="x" * 65)]}, "id must be text"),
        ({"marks": [LINE, with_(NOTE, id="l1")]}, "same id"),
        ({"marks": [NOTE] * (MAX_MARKS + 1)}, f"at most {MAX_MARKS}"),
    ],
)
def test_what_is_not_a_mark_is_refused_with_a_reason_and_a_sentence(data: Any, words: str) -> None:
    with pytest.raises(InvalidMarks) as refused:
        parse_marks(data)
    assert refused.value.reason == Reason.INVALID_MARKS
    assert refused.value.http_status == 422
    assert words in refused.value.message
    assert refused.value.message.endswith(".")


def test_a_long_note_is_drawn_in_ascii_look_alikes_and_inside_the_picture() -> None:
    import numpy as np

    from dance_analysis.render import MARK_COLOUR, draw_marks, note_ascii, note_lines

    # What a coach types, as OpenCV's ASCII fonts can draw it (was "?" for each).
    assert note_ascii("Knees out — keep the “heel” down, élan…") == (
        'Knees out - keep the "heel" down, elan...'
    )
    assert note_ascii("膝") == "?"  # nothing to fall back on
    # Words wrap into lines that fit; a word too long for any line is cut.
    assert note_lines("keep the heel down", lambda line: len(line) <= 9) == [
        "keep the", "heel down",
    ]  # fmt: skip
    assert note_lines("abcdefghij", lambda line: len(line) <= 4) == ["abcd", "efgh", "ij"]

    # A portrait report picture (the phone's), the note right of the head: the sentence
    # is wider than the picture, so it wraps and stays inside (it ran off both sides).
    picture = np.zeros((640, 360, 3), dtype=np.uint8)
    text = "Knees out over the toes — keep the heel down all the way through the squat"
    draw_marks(picture, [Mark("n", "note", 0.0, ((0.62, 0.3),), text)])
    yellow = np.all(np.abs(picture.astype(int) - MARK_COLOUR) < 40, axis=2)
    rows, columns = np.nonzero(yellow)
    assert rows.size > 0
    assert columns.min() > 0 and columns.max() < picture.shape[1] - 1
    assert rows.max() - rows.min() > 40  # more than one line


def test_marks_on_one_frame_keep_the_order_they_were_drawn_in() -> None:
    """Sorted by time alone: on one frame the Marks tab listed them by random id."""
    drawn = [{**ANGLE, "id": "z"}, {**LINE, "id": "m", "t_ms": 400}, {**NOTE, "t_ms": 400}]
    assert [mark.kind for mark in parse_marks(drawn)] == ["angle", "line", "note"]
