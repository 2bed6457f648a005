"""Kinovea's annotation file, ``kinovea.kva`` (KVA format 2.0): open the clip in
Kinovea, then File ▸ Load annotations (or name it like the clip, ``dance.kva``).

What Kinovea shows:

- **A keyframe per feedback item**, on the analysed frame nearest its ``time_ms``: the
  title names the topic and the count ("Timing · count 5 of phrase 3"; the joints
  without music), the comment is
  the message, the colour the severity (info green, warning orange, critical red).
  Items on the same frame share one keyframe, their messages one per line. Kinovea
  keeps a keyframe's comment as rich text and loads it into a RichTextBox's ``Rtf``
  (``TextHelper.GetText``), which refuses text that does not start ``{\\rtf``, so
  the comment is written as a small RTF document (plain text, no formatting).
- **The coach's marks** as Kinovea's own drawings on the keyframe of their frame (a
  keyframe of their own, "Coach's marks", when no feedback falls there): an angle mark
  is an ``Angle`` (vertex ``PointO``, arms ``PointA``/``PointB``), a line a ``Line``, a
  note a ``Label`` with its text; coordinates in pixels of the upright picture.
- **The skeleton as tracks**: one ``Track`` per main joint (nose, shoulders, elbows,
  wrists, hips, knees, ankles), a point in every frame with the dancer, coloured by
  side like our overlay (the dancer's left warm, right cool). Kinovea draws each as the
  joint's path with a marker on the current frame, and lists them in its trajectory
  analysis (positions, speeds, plots). Tracks are built into Kinovea; a stick figure
  (a "posture" drawing) would need a posture tool definition installed on the
  coach's machine, so the bones are left to the tracks' markers.

Times are the video's own timestamps, as Kinovea counts them: ticks of the stream's
time base from its first frame (``FirstTimeStamp``), ``AverageTimeStampsPerFrame`` the
ticks of one frame. Opened on the same clip (same file name, and the same size in
bytes for Kinovea 2025.2 and later) they are used as they are; on another encoding of
it (the overlay) Kinovea maps them frame for frame. Elements, their order and their
text follow Kinovea's reader (``MetadataSerializer``, ``Keyframe``, ``DrawingAngle``,
``DrawingLine``, ``DrawingText``, ``DrawingTrack``): ``FormatVersion`` first, the image
size and timing before the keyframes, ``x;y`` points, ``x;y;t`` track points, integers
where it reads integers.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from dance_analysis import __version__
from dance_analysis.exports import Motion
from dance_analysis.marks import Mark
from dance_analysis.skeleton import BLAZEPOSE_33, SIDE_COLOURS, side_of

FORMAT_VERSION = "2.0"
#: The joints drawn as tracks.
TRACKED_JOINTS = (
    "nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee",
    "left_ankle", "right_ankle",
)  # fmt: skip
SEVERITY_COLOURS = {"info": (40, 170, 90), "warning": (245, 150, 30), "critical": (220, 50, 50)}
MARK_COLOUR = (255, 220, 0)
MARKS_TITLE = "Coach's marks"
# Stable ids: the same analysis gives the same file.
_NAMESPACE = uuid.UUID("5b0e3f5e-7c1a-4d5e-9a41-6d8f2c3b9e10")
# Characters XML 1.0 cannot hold (a coach's note could contain them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Clock:
    """Kinovea's timestamps for one clip: ``first`` + ``ticks_per_s`` × seconds."""

    first: int
    ticks_per_s: Fraction
    fps: float

    @classmethod
    def of(cls, motion: Motion) -> Clock:
        video = motion.header["video"]
        try:
            time_base = Fraction(str(video["time_base"]))
        except (KeyError, ValueError, ZeroDivisionError):
            time_base = Fraction(1, 1000)  # an older result: milliseconds
        # Kinovea exposes 0-based timestamps when a stream starts before zero.
        return cls(max(int(video.get("start_pts") or 0), 0), 1 / time_base, motion.fps)

    def at(self, t_ms: float) -> int:
        return self.first + round(Fraction(t_ms).limit_denominator(10**6) / 1000 * self.ticks_per_s)

    @property
    def per_frame(self) -> int:
        """Ticks per frame, a whole number (Kinovea before 2025.2 reads an integer)."""
        return max(round(float(self.ticks_per_s) / self.fps), 1)


@dataclass
class _Keyframe:
    timestamp: int
    titles: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    colour: tuple[int, int, int] = MARK_COLOUR
    drawings: list[ET.Element] = field(default_factory=list)


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def rtf(text: str) -> str:
    """Plain ``text`` as an RTF document: ``\\``, ``{``, ``}`` escaped, a new line a
    ``\\par``, a tab a ``\\tab``, and every non-ASCII character a ``\\uN?`` (UTF-16
    units as signed 16-bit numbers, the RTF rule; ``?`` the fallback a reader skips)."""
    words = {"\\": "\\\\", "{": "\\{", "}": "\\}", "\n": "\\par ", "\t": "\\tab "}
    out = []
    for char in _text(text).replace("\r\n", "\n").replace("\r", "\n"):
        if char in words:
            out.append(words[char])
        elif ord(char) < 128:
            out.append(char)
        else:
            units = char.encode("utf-16-le")
            for i in range(0, len(units), 2):
                unit = int.from_bytes(units[i : i + 2], "little", signed=True)
                out.append(f"\\u{unit}?")
    return "{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0\\fnil Segoe UI;}}\\uc1\\f0 " + "".join(out) + "}"


def _id(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, ":".join(map(str, parts))))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = _text(text)
    return element


def _point(x: float, y: float) -> str:
    return f"{round(x, 2):g};{round(y, 2):g}"


def _argb(colour: tuple[int, int, int]) -> str:
    return "255;" + ";".join(map(str, colour))


def _style(drawing: ET.Element, colour_key: str, colour: tuple[int, int, int]) -> ET.Element:
    style = _sub(drawing, "DrawingStyle")
    _sub(_sub(style, "Color", Key=colour_key), "Value", _argb(colour))
    return style


def _frame_nearest(t_ms: Any, frames_ms: np.ndarray) -> float:
    """The analysed frame's time nearest ``t_ms`` (the time itself without frames)."""
    if not len(frames_ms):
        return float(t_ms)
    return float(frames_ms[int(np.argmin(np.abs(frames_ms - float(t_ms))))])


def _feedback_title(item: Mapping[str, Any]) -> str:
    """The topic and the count ("Timing · count 5 of phrase 3"), or without music the
    joints ("Movement · right elbow")."""
    title = str(item.get("topic") or "feedback").capitalize()
    count = item.get("count")
    joints = [str(joint).replace("_", " ") for joint in item.get("joints") or []]
    if isinstance(count, Mapping) and count.get("label"):
        title += f" · {count['label']}"
    elif joints:
        title += f" · {', '.join(joints[:2])}"
    return title


def _mark_drawing(mark: Mark, width: int, height: int) -> ET.Element:
    pixels = [(x * width, y * height) for x, y in mark.points]
    name = mark.text or mark.kind
    if mark.kind == "angle":
        drawing = ET.Element("Angle", {"id": _id("mark", mark.id), "name": _text(name)})
        (ax, ay), (ox, oy), (bx, by) = pixels
        _sub(drawing, "PointO", _point(ox, oy))
        _sub(drawing, "PointA", _point(ax, ay))
        _sub(drawing, "PointB", _point(bx, by))
        _style(drawing, "line color", MARK_COLOUR)
    elif mark.kind == "line":
        drawing = ET.Element("Line", {"id": _id("mark", mark.id), "name": _text(name)})
        (sx, sy), (ex, ey) = pixels
        _sub(drawing, "Start", _point(sx, sy))
        _sub(drawing, "End", _point(ex, ey))
        style = _style(drawing, "color", MARK_COLOUR)
        _sub(_sub(style, "LineSize", Key="line size"), "Value", "3")
    else:
        drawing = ET.Element("Label", {"id": _id("mark", mark.id), "name": "note"})
        _sub(drawing, "Text", mark.text)
        _sub(drawing, "Position", _point(*pixels[0]))
        style = _style(drawing, "back color", MARK_COLOUR)
        _sub(_sub(style, "FontSize", Key="font size"), "Value", "14")
    return drawing


def _keyframes(motion: Motion, marks: Sequence[Mark], clock: Clock) -> list[_Keyframe]:
    by_time: dict[int, _Keyframe] = {}

    def keyframe_at(t_ms: float) -> _Keyframe:
        timestamp = clock.at(_frame_nearest(t_ms, motion.t_ms))
        return by_time.setdefault(timestamp, _Keyframe(timestamp))

    for item in motion.header.get("feedback") or []:
        keyframe = keyframe_at(float(item["time_ms"]))
        if not keyframe.titles:
            keyframe.colour = SEVERITY_COLOURS.get(str(item.get("severity")), MARK_COLOUR)
        keyframe.titles.append(_feedback_title(item))
        keyframe.comments.append(str(item["message"]))
    for mark in marks:
        keyframe = keyframe_at(mark.t_ms)
        keyframe.drawings.append(_mark_drawing(mark, motion.width, motion.height))
    return [by_time[timestamp] for timestamp in sorted(by_time)]


def _write_keyframe(parent: ET.Element, keyframe: _Keyframe) -> None:
    element = _sub(parent, "Keyframe", id=_id("keyframe", keyframe.timestamp))
    _sub(element, "Position", str(keyframe.timestamp))
    _sub(element, "Title", keyframe.titles[0] if keyframe.titles else MARKS_TITLE)
    _sub(element, "Color", ";".join(map(str, keyframe.colour)))
    if keyframe.comments:
        _sub(element, "Comment", rtf("\n".join(keyframe.comments)))
    if keyframe.drawings:
        _sub(element, "Drawings").extend(keyframe.drawings)


def _tracks(motion: Motion, clock: Clock) -> Iterator[ET.Element]:
    pixels = motion.landmarks[:, :, :2] * np.array([motion.width, motion.height])
    timestamps = [clock.at(float(t)) for t in motion.t_ms]
    for joint in TRACKED_JOINTS:
        points = pixels[:, BLAZEPOSE_33.index(joint)]
        seen = np.flatnonzero(np.isfinite(points).all(axis=1))
        if not len(seen):
            continue
        track = ET.Element("Track", {"id": _id("track", joint), "name": joint})
        first = str(timestamps[seen[0]])
        _sub(track, "TimePosition", first)
        _sub(track, "Visible", first)
        _sub(track, "Invisible", "-1")
        point_list = _sub(track, "TrackPointList", Count=str(len(seen)))
        for i in seen:
            x, y = points[i]
            _sub(point_list, "TrackPoint", f"{_point(x, y)};{timestamps[i]}")
        _sub(track, "SeeFuture", "false")
        _sub(track, "ShowTrackLabel", "false")
        style = _style(track, "color", SIDE_COLOURS[side_of(joint)])
        _sub(_sub(style, "LineSize", Key="line size"), "Value", "2")
        yield track


def kva_document(motion: Motion, marks: Sequence[Mark]) -> ET.Element:
    """The KVA document's root element (``KinoveaVideoAnalysis``)."""
    clock = Clock.of(motion)
    video = motion.header["video"]
    root = ET.Element("KinoveaVideoAnalysis")
    _sub(root, "FormatVersion", FORMAT_VERSION)
    _sub(root, "Producer", f"DanceAnalysis.{__version__}")
    _sub(root, "OriginalFilename", Path(str(video.get("name") or "clip")).stem)
    if video.get("size_bytes"):
        _sub(root, "ByteLength", str(int(video["size_bytes"])))
    _sub(root, "ImageSize", f"{motion.width};{motion.height}")
    _sub(root, "AverageTimeStampsPerFrame", str(clock.per_frame))
    _sub(root, "FirstTimeStamp", str(clock.first))
    _sub(root, "SelectionStart", str(clock.first))
    _sub(root, "TimeOrigin", str(clock.first))
    keyframes = _keyframes(motion, marks, clock)
    if keyframes:
        parent = _sub(root, "Keyframes")
        for keyframe in keyframes:
            _write_keyframe(parent, keyframe)
    tracks = list(_tracks(motion, clock))
    if tracks:
        _sub(root, "Tracks").extend(tracks)
    return root


def write_kva(motion: Motion, path: Path, marks: Sequence[Mark]) -> None:
    """``kinovea.kva``: feedback keyframes, the coach's ``marks``, the joints' tracks."""
    tree = ET.ElementTree(kva_document(motion, marks))
    ET.indent(tree, space="  ")
    tree.write(path, encoding="utf-8", xml_declaration=True)
