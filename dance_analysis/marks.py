"""A coach's own marks on a clip, as in Kinovea: an angle, a line or a note on a frame.

Marks are drawn in the desktop player, saved with the job (``marks.json``, artifact
``marks``), drawn again on replay, and exported to ``kinovea.kva`` and ``report.html``.

A mark lives on the picture, not on the body: its points are normalised to the
displayed (upright) frame, ``x`` and ``y`` in 0–1 from the top-left corner, so the same
mark fits the video at any size. ``t_ms`` is the frame's time on the clip's clock.

``marks.json``::

    {"version": 1, "marks": [{"id": "…", "kind": "angle", "t_ms": 1234.5,
                              "points": [[x, y], [x, y], [x, y]], "text": ""}]}

An angle's vertex is its middle point; a line has two points; a note one point and its
text. Anything else is refused with :class:`~dance_analysis.errors.InvalidMarks`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dance_analysis.errors import InvalidMarks

MARKS_VERSION = 1
#: How many points each kind of mark has.
POINTS_PER_KIND = {"angle": 3, "line": 2, "note": 1}
_POINTS_NEEDED = {
    "angle": "An angle needs three points: one end, the vertex, the other end.",
    "line": "A line needs two points.",
    "note": "A note needs one point, where it is pinned.",
}
MAX_MARKS = 500
MAX_TEXT = 500
MAX_ID = 64

Point = tuple[float, float]


@dataclass(frozen=True)
class Mark:
    """One mark: ``kind`` (angle, line, note), its frame time and its points (0–1)."""

    id: str
    kind: str
    t_ms: float
    points: tuple[Point, ...]
    text: str = ""

    def degrees(self, width: float = 1.0, height: float = 1.0) -> float | None:
        """An angle mark's angle at its vertex, in degrees, measured on a ``width`` ×
        ``height`` picture (normalised points are not square on a 16:9 frame)."""
        if self.kind != "angle":
            return None
        (ax, ay), (bx, by), (cx, cy) = self.points
        first = math.atan2((ay - by) * height, (ax - bx) * width)
        second = math.atan2((cy - by) * height, (cx - bx) * width)
        turn = abs(math.degrees(first - second)) % 360.0
        return 360.0 - turn if turn > 180.0 else turn

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "t_ms": round(self.t_ms, 3),
            "points": [[round(x, 6), round(y, 6)] for x, y in self.points],
            "text": self.text,
        }


def new_mark_id() -> str:
    return uuid.uuid4().hex


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidMarks(f"A mark's {what} must be a number.")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidMarks(f"A mark's {what} must be a finite number.")
    return number


def parse_mark(data: Any) -> Mark:
    """One mark from JSON-like data; a missing id gets a fresh one."""
    if not isinstance(data, Mapping):
        raise InvalidMarks("Each mark must be an object with a kind, a time and points.")
    kind = data.get("kind")
    if kind not in POINTS_PER_KIND:
        raise InvalidMarks(
            f"“{str(kind)[:40]}” is not a kind of mark. Use one of: {', '.join(POINTS_PER_KIND)}."
        )
    t_ms = _number(data.get("t_ms"), "time (t_ms)")
    if t_ms < 0:
        raise InvalidMarks("A mark's time (t_ms) cannot be before the clip starts.")
    raw_points = data.get("points")
    if not isinstance(raw_points, list) or len(raw_points) != POINTS_PER_KIND[kind]:
        raise InvalidMarks(_POINTS_NEEDED[kind])
    points: list[Point] = []
    for point in raw_points:
        if not isinstance(point, list) or len(point) != 2:
            raise InvalidMarks("Each point of a mark is a pair [x, y].")
        x, y = _number(point[0], "x"), _number(point[1], "y")
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise InvalidMarks("A mark's points must lie on the picture (x and y from 0 to 1).")
        points.append((x, y))
    text = data.get("text", "")
    if not isinstance(text, str):
        raise InvalidMarks("A mark's text must be text.")
    if len(text) > MAX_TEXT:
        raise InvalidMarks(f"A mark's text is limited to {MAX_TEXT} characters.")
    if kind == "note" and not text.strip():
        raise InvalidMarks("A note needs some text.")
    mark_id = data.get("id") or new_mark_id()
    if not isinstance(mark_id, str) or len(mark_id) > MAX_ID:
        raise InvalidMarks(f"A mark's id must be text of at most {MAX_ID} characters.")
    return Mark(id=mark_id, kind=kind, t_ms=t_ms, points=tuple(points), text=text)


def parse_marks(data: Any) -> list[Mark]:
    """Marks from ``marks.json``'s document or a bare list, sorted by time."""
    items = data.get("marks") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        raise InvalidMarks('Marks are sent as a list: {"marks": [...]}.')
    if len(items) > MAX_MARKS:
        raise InvalidMarks(f"A clip can hold at most {MAX_MARKS} marks.")
    marks = [parse_mark(item) for item in items]
    if len({mark.id for mark in marks}) != len(marks):
        raise InvalidMarks("Two marks have the same id.")
    return sorted(marks, key=lambda mark: mark.t_ms)  # stable: drawn order within a frame


def marks_document(marks: Iterable[Mark]) -> dict[str, Any]:
    """``marks.json``'s content."""
    return {"version": MARKS_VERSION, "marks": [mark.to_dict() for mark in marks]}
