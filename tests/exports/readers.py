"""Readers for the export formats, written in the tests from each format's description
(OpenSim's TRC and Storage/MOT pages, the Biovision BVH description, the RTF
specification), never from our writers: a file only passes if a reader that knows
nothing of our code understands it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


# --- TRC (OpenSim "Marker (.trc) Files") ----------------------------------------------


@dataclass
class Trc:
    header: dict[str, str]
    markers: list[str]
    frames: list[int]
    times: FloatArray  # (n,) seconds
    points: FloatArray  # (n, markers, 3), NaN for a missing marker


def read_trc(path: Path) -> Trc:
    """As OpenSim's TRCFileAdapter reads it: line 1 starts ``PathFileType``; line 2 the
    eight metadata keys, line 3 their values; line 4 ``Frame#``, ``Time`` and the
    marker names (blank cells ignored); line 5 ``X1 Y1 Z1 …``; then one row per frame,
    ``NaN`` or an empty cell for a missing coordinate."""
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[0].split("\t")[0] == "PathFileType"
    keys = [k for k in lines[1].split("\t") if k]
    values = [v for v in lines[2].split("\t") if v]
    assert keys == ["DataRate", "CameraRate", "NumFrames", "NumMarkers", "Units",
                    "OrigDataRate", "OrigDataStartFrame", "OrigNumFrames"]  # fmt: skip
    header = dict(zip(keys, values, strict=True))
    labels = [c for c in lines[3].split("\t") if c]
    assert labels[:2] == ["Frame#", "Time"]
    markers = labels[2:]
    assert len(markers) == int(header["NumMarkers"])
    xyz = [c for c in lines[4].split("\t") if c]
    assert xyz == [f"{a}{i}" for i in range(1, len(markers) + 1) for a in "XYZ"]
    rows = [line.split("\t") for line in lines[5:] if line.strip()]
    width = 2 + 3 * len(markers)
    assert all(len(row) in (width, width + 1) for row in rows)  # a trailing tab is allowed
    cells = np.array([[float(c) if c else math.nan for c in row[2:width]] for row in rows])
    return Trc(
        header=header,
        markers=markers,
        frames=[int(row[0]) for row in rows],
        times=np.array([float(row[1]) for row in rows]),
        points=cells.reshape(len(rows), len(markers), 3),
    )


# --- MOT (OpenSim Storage: "Motion (.mot) Files") -------------------------------------


@dataclass
class Mot:
    name: str
    settings: dict[str, str]
    columns: list[str]
    table: FloatArray  # (rows, columns), ``time`` first


def read_mot(path: Path) -> Mot:
    """A name line, ``key=value`` lines up to ``endheader``, the column labels (``time``
    first), then tab-separated numbers."""
    lines = path.read_text(encoding="utf-8").split("\n")
    end = lines.index("endheader")
    settings = dict(line.split("=", 1) for line in lines[1:end])
    columns = lines[end + 1].split("\t")
    rows = [line.split("\t") for line in lines[end + 2 :] if line.strip()]
    table = np.array([[float(c) for c in row] for row in rows])
    return Mot(name=lines[0], settings=settings, columns=columns, table=table)


# OpenSim's Storage reads a .mot of version <= 1 with its legacy code, each number by C++
# stream extraction (opensim-core OpenSim/Common/Storage.cpp, "(*fp) >> y[i]"), and from
# version 2 through STOFileAdapter (std::stod). Stream extraction takes a decimal number
# only: on anything else ("NaN") it fails and stays failed, no later number is read
# (here 0 from there on; OpenSim leaves stale numbers).
_STREAM_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def storage_table(path: Path) -> FloatArray:
    """The numbers OpenSim's ``Storage`` gets from a .mot, ``time`` first."""
    mot = read_mot(path)
    if int(mot.settings.get("version", "0")) > 1:
        return mot.table
    lines = path.read_text(encoding="utf-8").split("\n")
    tokens = " ".join(lines[lines.index("endheader") + 2 :]).split()
    failed = False
    values = []
    for token in tokens:
        failed = failed or _STREAM_NUMBER.fullmatch(token) is None
        values.append(0.0 if failed else float(token))
    return np.array(values).reshape(mot.table.shape)


# --- RTF (Kinovea's keyframe comments) --------------------------------------------------

_RTF_TOKEN = re.compile(r"\\([a-z]+)(-?\d+)? ?|\\(.)|([{}])|([^\\{}]+)", re.DOTALL)


def rtf_text(document: str) -> str:
    """The plain text of an RTF document (Word's RTF 1.9.1 specification): it must open
    with ``{\\rtf``; ``\\par`` is a new line, ``\\tab`` a tab, ``\\uN`` the UTF-16 unit N
    (signed) followed by ``\\ucN`` fallback characters to skip; ``\\{ \\} \\\\`` are
    the characters; the font table group is not text; raw line breaks are ignored."""
    assert document.startswith("{\\rtf"), document[:20]
    units: list[int] = []
    depth, hidden_from, skip, fallback = 0, None, 0, 1
    for word, number, symbol, brace, text in _RTF_TOKEN.findall(document):
        if brace:
            depth += 1 if brace == "{" else -1
            if hidden_from is not None and depth < hidden_from:
                hidden_from = None
        elif hidden_from is not None:
            continue
        elif word == "fonttbl":
            hidden_from = depth
        elif word == "uc":
            fallback = int(number)
        elif word == "u":
            units.append(int(number) % 65536)
            skip = fallback
        elif word in ("par", "line", "tab"):
            units.append(ord("\t" if word == "tab" else "\n"))
        elif symbol:
            units.append(ord(symbol))
        elif text:
            text = text.replace("\r", "").replace("\n", "")
            dropped, skip = min(skip, len(text)), max(skip - len(text), 0)
            units.extend(ord(char) for char in text[dropped:])
    raw = b"".join(unit.to_bytes(2, "little") for unit in units)
    return raw.decode("utf-16-le")


# --- BVH (Biovision hierarchy) ------------------------------------------------------


@dataclass
class BvhJoint:
    name: str
    parent: int  # index into Bvh.joints, -1 for the root
    offset: FloatArray
    channels: list[str] = field(default_factory=list)
    end_site: bool = False


@dataclass
class Bvh:
    joints: list[BvhJoint]
    frame_time: float
    motion: FloatArray  # (frames, channels)

    def index(self, name: str) -> int:
        return next(i for i, joint in enumerate(self.joints) if joint.name == name)


def read_bvh(path: Path) -> Bvh:
    """HIERARCHY: ``ROOT``/``JOINT name { OFFSET x y z  CHANNELS n …  children }`` and
    ``End Site { OFFSET … }``; MOTION: ``Frames:``, ``Frame Time:``, one line of channel
    values per frame in the order the channels were declared."""
    tokens = path.read_text(encoding="utf-8").split()
    at = 0

    def take() -> str:
        nonlocal at
        at += 1
        return tokens[at - 1]

    assert take() == "HIERARCHY"
    joints: list[BvhJoint] = []
    stack: list[int] = []
    while True:
        word = take()
        if word in ("ROOT", "JOINT"):
            joints.append(BvhJoint(take(), stack[-1] if stack else -1, np.zeros(3)))
        elif word == "End":
            assert take() == "Site"
            name = f"{joints[stack[-1]].name}_end"
            joints.append(BvhJoint(name, stack[-1], np.zeros(3), end_site=True))
        elif word == "{":
            stack.append(len(joints) - 1)
        elif word == "OFFSET":
            joints[stack[-1]].offset = np.array([float(take()) for _ in range(3)])
        elif word == "CHANNELS":
            joints[stack[-1]].channels = [take() for _ in range(int(take()))]
        elif word == "}":
            stack.pop()
        elif word == "MOTION":
            break
        else:
            raise AssertionError(f"unexpected {word!r} in the hierarchy")
    assert not stack
    assert take() == "Frames:"
    frames = int(take())
    assert (take(), take()) == ("Frame", "Time:")
    frame_time = float(take())
    values = np.array([float(v) for v in tokens[at:]])
    width = sum(len(joint.channels) for joint in joints)
    assert values.size == frames * width
    return Bvh(joints=joints, frame_time=frame_time, motion=values.reshape(frames, width))


def _axis_rotation(axis: str, degrees: FloatArray) -> FloatArray:
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    one, zero = np.ones_like(a), np.zeros_like(a)
    rows = {
        "X": [[one, zero, zero], [zero, c, -s], [zero, s, c]],
        "Y": [[c, zero, s], [zero, one, zero], [-s, zero, c]],
        "Z": [[c, -s, zero], [s, c, zero], [zero, zero, one]],
    }[axis]
    return np.moveaxis(np.array(rows), (0, 1), (-2, -1))


def forward_kinematics(bvh: Bvh) -> FloatArray:
    """Every joint's (and end site's) position in every frame, (frames, joints, 3): a
    joint sits at its parent's position plus the parent's rotation of its offset (plus
    its position channels); its rotation is its parent's times the product of its
    rotation channels in the order they are listed."""
    frames = len(bvh.motion)
    positions = np.zeros((frames, len(bvh.joints), 3))
    rotations = np.zeros((frames, len(bvh.joints), 3, 3))
    column = 0
    for j, joint in enumerate(bvh.joints):
        local = np.broadcast_to(np.eye(3), (frames, 3, 3)).copy()
        translation = np.broadcast_to(joint.offset, (frames, 3)).copy()
        for channel in joint.channels:
            values = bvh.motion[:, column]
            column += 1
            if channel.endswith("position"):
                translation[:, "XYZ".index(channel[0])] += values
            else:
                local = local @ _axis_rotation(channel[0], values)
        if joint.parent < 0:
            positions[:, j] = translation
            rotations[:, j] = local
        else:
            parent_rotation = rotations[:, joint.parent]
            positions[:, j] = positions[:, joint.parent] + np.einsum(
                "nij,nj->ni", parent_rotation, translation
            )
            rotations[:, j] = parent_rotation @ local
    return positions
