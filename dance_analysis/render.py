"""Draws the skeleton and a few joint-angle labels onto a frame, for the overlay video,
and a coach's marks (angle, line, note) onto a picture for the report.

Drawing happens in place on the upright RGB frame the reader produced (the pipeline
owns it by then). Joints the model is unsure of (low visibility) are left out, so the
overlay never shows a limb the analysis would not measure. The other people in the
frame are drawn faintly (thin, grey, translucent, no labels): seen, but plainly not
the dancer the numbers are about.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
import numpy.typing as npt

from dance_analysis.analysis.angles import JOINT_ANGLES, angle_at
from dance_analysis.marks import Mark
from dance_analysis.skeleton import BLAZEPOSE_33, SIDE_COLOURS, bone_side, side_of

_LABELLED = ("left_elbow", "right_elbow", "left_knee", "right_knee")
_FACE = set(range(11))  # the face's fine landmarks clutter the picture at phone sizes


def _side_colour(name: str) -> tuple[int, int, int]:
    return SIDE_COLOURS[side_of(name)]


_BONES = [(a, b) for a, b in BLAZEPOSE_33.bones if a not in _FACE and b not in _FACE]


def _bone_colour(a: int, b: int) -> tuple[int, int, int]:
    return SIDE_COLOURS[bone_side(BLAZEPOSE_33.joints[a], BLAZEPOSE_33.joints[b])]


_BONE_COLOURS = [_bone_colour(a, b) for a, b in _BONES]
_JOINTS = [j for j in range(33) if j not in _FACE] + [0]
_LABEL_TRIPLES = {
    name: tuple(BLAZEPOSE_33.index(j) for j in JOINT_ANGLES[name]) for name in _LABELLED
}


def draw_pose(
    image: npt.NDArray[np.uint8],
    landmarks: npt.NDArray[np.float64],
    world: npt.NDArray[np.float64] | None,
    *,
    visibility_min: float = 0.5,
) -> None:
    """Draw one pose onto ``image`` (h, w, 3) RGB, in place.

    ``landmarks``: (33, 4) normalised ``[x, y, z, visibility]``; ``world``: (33, 4) in
    metres, used for the angle labels so they match the numbers in the result.
    """
    height, width = image.shape[:2]
    scale = max(height, width) / 720
    thickness = max(2, round(2.5 * scale))
    radius = max(3, round(4 * scale))
    points = np.round(landmarks[:, :2] * (width, height)).astype(np.int32)
    visible = landmarks[:, 3] >= visibility_min

    for (a, b), colour in zip(_BONES, _BONE_COLOURS, strict=True):
        if visible[a] and visible[b]:
            cv2.line(image, tuple(points[a]), tuple(points[b]), colour, thickness, cv2.LINE_AA)
    for j in _JOINTS:
        if visible[j]:
            colour = _side_colour(BLAZEPOSE_33.joints[j])
            cv2.circle(image, tuple(points[j]), radius, colour, -1, cv2.LINE_AA)
            cv2.circle(image, tuple(points[j]), radius, (20, 20, 20), 1, cv2.LINE_AA)

    source = world[:, :3] if world is not None else landmarks[:, :2] * (width, height)
    font_scale = 0.6 * scale
    for name, (a, b, c) in _LABEL_TRIPLES.items():
        if not (visible[a] and visible[b] and visible[c]):
            continue
        degrees = float(angle_at(source[a], source[b], source[c]))
        if not np.isfinite(degrees):
            continue
        text = f"{degrees:.0f}"
        offset = (round(12 * scale), round(-8 * scale))
        if name.startswith("right_"):  # labels outside the body: right side is image-left
            (text_w, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 2)
            offset = (-text_w - round(18 * scale), offset[1])
        origin = (int(points[b][0] + offset[0]), int(points[b][1] + offset[1]))
        _draw_label(image, text, origin, font_scale, _side_colour(name))


FAINT_COLOUR = (200, 200, 200)
FAINT_OPACITY = 0.45


def draw_others(
    image: npt.NDArray[np.uint8],
    people: npt.NDArray[np.float64],
    *,
    visibility_min: float = 0.5,
) -> None:
    """Draw the other people ``(k, 33, 4)`` faintly onto ``image``, in place.

    Thin grey bones blended at :data:`FAINT_OPACITY` over the picture, only inside the
    box they cover (blending the whole frame would cost a full-frame pass per person).
    """
    height, width = image.shape[:2]
    thickness = max(1, round(max(height, width) / 720))
    for landmarks in people:
        visible = landmarks[:, 3] >= visibility_min
        if not visible.any():
            continue
        points = np.round(landmarks[:, :2] * (width, height)).astype(np.int32)
        shown = points[visible]
        pad = thickness + 2
        x0, y0 = np.clip(shown.min(axis=0) - pad, 0, (width, height))
        x1, y1 = np.clip(shown.max(axis=0) + pad + 1, 0, (width, height))
        if x1 <= x0 or y1 <= y0:
            continue
        region = image[y0:y1, x0:x1]
        sketch = region.copy()
        for a, b in _BONES:
            if visible[a] and visible[b]:
                cv2.line(
                    sketch, tuple(points[a] - (x0, y0)), tuple(points[b] - (x0, y0)),
                    FAINT_COLOUR, thickness, cv2.LINE_AA,
                )  # fmt: skip
        cv2.addWeighted(sketch, FAINT_OPACITY, region, 1 - FAINT_OPACITY, 0, dst=region)


def _draw_label(
    image: npt.NDArray[np.uint8],
    text: str,
    origin: tuple[int, int],
    font_scale: float,
    colour: tuple[int, int, int],
) -> None:
    """Text with a dark outline (readable on any background) and a small degree ring."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    weight = max(1, round(2 * font_scale / 0.6))
    cv2.putText(image, text, origin, font, font_scale, (0, 0, 0), weight + 3, cv2.LINE_AA)
    cv2.putText(image, text, origin, font, font_scale, colour, weight, cv2.LINE_AA)
    # Hershey fonts have no degree sign: draw one.
    (text_w, text_h), _ = cv2.getTextSize(text, font, font_scale, weight)
    ring = (origin[0] + text_w + round(4 * font_scale / 0.6), origin[1] - text_h + 2)
    ring_r = max(2, round(3 * font_scale / 0.6))
    cv2.circle(image, ring, ring_r, (0, 0, 0), weight + 2, cv2.LINE_AA)
    cv2.circle(image, ring, ring_r, colour, weight, cv2.LINE_AA)


MARK_COLOUR = (255, 214, 10)  # RGB: a coach's yellow, apart from the skeleton's colours


def draw_marks(image: npt.NDArray[np.uint8], marks: Sequence[Mark]) -> None:
    """Draw a coach's marks onto ``image`` (h, w, 3) RGB, in place.

    An angle: its two arms from the vertex and its degrees (measured on this picture's
    width and height, as :meth:`Mark.degrees` says); a line; a note: a dot and its text.
    OpenCV's fonts have only ASCII, so a note is drawn in its ASCII look-alike
    (:func:`note_ascii`) and wrapped inside the picture; the report prints the text
    itself beside the picture.
    """
    height, width = image.shape[:2]
    scale = max(height, width) / 720
    thickness = max(2, round(2.5 * scale))
    font_scale = 0.6 * scale
    for mark in marks:
        points = [(round(x * width), round(y * height)) for x, y in mark.points]
        if mark.kind == "angle":
            first, vertex, last = points
            for end in (first, last):
                cv2.line(image, vertex, end, (0, 0, 0), thickness + 2, cv2.LINE_AA)
                cv2.line(image, vertex, end, MARK_COLOUR, thickness, cv2.LINE_AA)
            degrees = mark.degrees(width, height)
            origin = (vertex[0] + round(10 * scale), vertex[1] - round(10 * scale))
            _draw_label(image, f"{degrees:.0f}", origin, font_scale, MARK_COLOUR)
        elif mark.kind == "line":
            cv2.line(image, points[0], points[1], (0, 0, 0), thickness + 2, cv2.LINE_AA)
            cv2.line(image, points[0], points[1], MARK_COLOUR, thickness, cv2.LINE_AA)
        else:
            _draw_note(image, points[0], mark.text, scale)


# Typographic characters a coach's keyboard makes, as OpenCV's ASCII can draw them.
_ASCII_LOOKALIKES = str.maketrans(
    {"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "°": " deg"}
)


def note_ascii(text: str) -> str:
    """A note's text in the ASCII OpenCV's fonts have: dashes and quotes as their plain
    look-alikes, accented letters without their accents (é → e), anything else ``?``."""
    import unicodedata

    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_LOOKALIKES))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return plain.encode("ascii", "replace").decode()


def note_lines(text: str, fits: Callable[[str], bool]) -> list[str]:
    """``text`` broken at spaces into lines that each ``fits``; a word too long for a
    line alone is cut (no text may leave the picture)."""
    lines: list[str] = []
    for word in text.split():
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and fits(joined):
            lines[-1] = joined
            continue
        while len(word) > 1 and not fits(word):
            cut = next((i for i in range(len(word) - 1, 1, -1) if fits(word[:i])), 1)
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    return lines


def _draw_note(image: npt.NDArray[np.uint8], at: tuple[int, int], text: str, scale: float) -> None:
    """A note's dot and its text beside it: right of the dot, or left where the picture
    ends first, wrapped to the picture's width and kept inside it."""
    height, width = image.shape[:2]
    x, y = at
    font, font_scale = cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale
    weight = max(1, round(2 * font_scale / 0.6))
    gap, margin = round(10 * scale), round(4 * scale)
    cv2.circle(image, (x, y), max(3, round(5 * scale)), MARK_COLOUR, -1, cv2.LINE_AA)

    def text_width(line: str) -> int:
        return int(cv2.getTextSize(line, font, font_scale, weight + 3)[0][0])

    room = max(width - x - gap, x - gap)  # the wider side of the dot
    fits_beside = max(room - margin, 1)
    lines = note_lines(note_ascii(text)[:120], lambda line: text_width(line) <= fits_beside)
    (_, line_h), baseline = cv2.getTextSize("Ag", font, font_scale, weight)
    step = line_h + baseline + round(4 * scale)
    lines = lines[: max(1, (height - 2 * margin) // step)]  # no line below the picture
    block_w = max((text_width(line) for line in lines), default=0)
    left = x + gap if x + gap + block_w <= width - margin else x - gap - block_w
    left = min(max(margin, left), max(margin, width - margin - block_w))
    last = height - margin - baseline - step * (len(lines) - 1)  # the lowest first line
    top = max(line_h + margin, min(y + round(5 * scale), last))
    for row, line in enumerate(lines):
        origin = (left, top + row * step)
        cv2.putText(image, line, origin, font, font_scale, (0, 0, 0), weight + 3, cv2.LINE_AA)
        cv2.putText(image, line, origin, font, font_scale, MARK_COLOUR, weight, cv2.LINE_AA)
