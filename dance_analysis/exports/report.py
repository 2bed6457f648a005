"""The student's report, report.html (issue 12): one page a phone opens, offline.

The coach sends it as a share link or as a file, and the student keeps it, so it must
stand alone: the style is inline, the pictures are JPEG ``data:`` URIs (640 px wide at
most), the angle plots are inline SVG drawn here (a polyline per angle is a few KB and
needs no plotting library), and there is no script at all, so the page can be served
under a policy that forbids every script and every fetch.

What it shows, top to bottom: the clip's name and date; key frames (at the feedback
items' times and at the frames the coach marked, with the skeleton and the marks drawn
on them); the feedback (time, count, message); tempo and timing against the beat; the
comparison with a teacher and its count sheet when the result has one; the angle plots
(knees, hips, elbows, shoulders, trunk) with the beats as faint lines.

The pictures come from ``video``. The overlay (``overlay.mp4``) has the skeleton drawn
already; any other video (the clip itself, when there is no overlay) gets the skeleton
drawn here from ``motion.landmarks``; without a video the skeleton is drawn on a plain
background.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dance_analysis.analysis.feedback import format_time  # the messages' own times
from dance_analysis.exports import Motion
from dance_analysis.marks import Mark

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]

MAX_KEY_FRAMES = 12  # a dozen pictures keep the page near 1 MB
PICTURE_BOX = (640, 720)  # the largest picture, width × height, in pixels
JPEG_QUALITY = 78
PLOT_POINTS = 420  # at most this many points per plotted angle
OVERLAY_FILE = "overlay.mp4"  # ARTIFACT_NAMES["overlay"]: its pictures have the skeleton
_SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
_PLOTS = (
    ("Knees", ("left_knee", "right_knee")),
    ("Hips", ("left_hip", "right_hip")),
    ("Elbows", ("left_elbow", "right_elbow")),
    ("Shoulders", ("left_shoulder", "right_shoulder")),
    ("Trunk lean (0° upright)", ("trunk",)),
)
_LINE_COLOURS = {"left": "#d9730d", "right": "#1a8fc9", "mid": "#444"}
_PART_LABELS = {
    "head": "Head", "torso": "Torso", "left_arm": "Left arm", "right_arm": "Right arm",
    "left_leg": "Left leg", "right_leg": "Right leg",
}  # fmt: skip
_NO_MUSIC = {
    "no_audio": "The clip has no sound, so there is no beat to dance to.",
    "silence": "The clip's sound is silent, so there is no beat to dance to.",
    "too_short": "The clip is too short to find the music's beat.",
    "no_steady_beat": "No steady beat was found in the clip's sound.",
}


@dataclass
class KeyFrame:
    """One picture of the report: frame ``index`` of the analysis, and what it shows."""

    index: int
    t_ms: float
    items: list[Mapping[str, Any]] = field(default_factory=list)  # feedback at this frame
    marks: list[Mark] = field(default_factory=list)
    jpeg: bytes = b""


def write_report(
    motion: Motion, path: Path, *, marks: Sequence[Mark] = (), video: Path | None = None
) -> None:
    """Write report.html for ``motion`` (with the coach's ``marks``) to ``path``."""
    frames = key_frames(motion, marks)
    _take_pictures(motion, frames, video)
    path.write_text(render_html(motion, frames), encoding="utf-8")


# --- which frames ----------------------------------------------------------------------


def _nearest(times: npt.NDArray[np.float64], t_ms: float) -> int:
    """The index of the time in ``times`` (sorted, non-empty) nearest ``t_ms``."""
    right = int(np.searchsorted(times, t_ms))
    if right <= 0:
        return 0
    if right >= len(times):
        return len(times) - 1
    return right if times[right] - t_ms < t_ms - times[right - 1] else right - 1


def key_frames(motion: Motion, marks: Sequence[Mark]) -> list[KeyFrame]:
    """The frames to show, in time order: every marked frame, then the feedback's
    frames, most severe first, up to :data:`MAX_KEY_FRAMES`; with neither, three
    frames spread over the part of the clip the dancer is in."""
    if len(motion.t_ms) == 0:
        return []
    chosen: dict[int, KeyFrame] = {}

    def frame_at(t_ms: float) -> KeyFrame | None:
        index = _nearest(motion.t_ms, t_ms)
        if index not in chosen and len(chosen) >= MAX_KEY_FRAMES:
            return None
        return chosen.setdefault(index, KeyFrame(index, float(motion.t_ms[index])))

    for mark in marks:
        frame = frame_at(mark.t_ms)
        if frame is not None:
            frame.marks.append(mark)
    items = sorted(
        motion.header.get("feedback") or (),
        key=lambda item: (_SEVERITY_ORDER.get(item.get("severity", ""), 3), item["time_ms"]),
    )
    for item in items:
        frame = frame_at(float(item["time_ms"]))
        if frame is not None:
            frame.items.append(item)
    if not chosen:
        seen = np.flatnonzero(~np.isnan(motion.landmarks[:, :, 0]).all(axis=1))
        span = seen if len(seen) else np.arange(len(motion.t_ms))
        for share in (0.2, 0.5, 0.8):
            frame_at(float(motion.t_ms[span[int(share * (len(span) - 1))]]))
    for frame in chosen.values():
        frame.items.sort(key=lambda item: float(item["time_ms"]))
    return sorted(chosen.values(), key=lambda frame: frame.index)


# --- the pictures ----------------------------------------------------------------------


def _fit(width: int, height: int) -> tuple[int, int]:
    scale = min(PICTURE_BOX[0] / max(width, 1), PICTURE_BOX[1] / max(height, 1), 1.0)
    return max(2, round(width * scale)), max(2, round(height * scale))


def _take_pictures(motion: Motion, frames: list[KeyFrame], video: Path | None) -> None:
    """Fill each frame's ``jpeg``: decoded from ``video``, else drawn on a plain ground."""
    import cv2

    from dance_analysis.render import draw_marks, draw_pose

    pictures = _decode(frames, video) if video is not None and frames else {}
    draw_skeleton = video is None or video.name != OVERLAY_FILE or not pictures
    for frame in frames:
        picture = pictures.get(frame.index)
        if picture is None:
            size = _fit(motion.width, motion.height)
            picture = np.full((size[1], size[0], 3), 36, dtype=np.uint8)
        landmarks = motion.landmarks[frame.index]
        if draw_skeleton and not np.isnan(landmarks[:, 0]).all():
            world = motion.world[frame.index]
            draw_pose(picture, landmarks, None if np.isnan(world[:, 0]).all() else world)
        draw_marks(picture, frame.marks)
        ok, encoded = cv2.imencode(
            ".jpg",
            cv2.cvtColor(picture, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY],
        )
        frame.jpeg = encoded.tobytes() if ok else b""


def _decode(frames: list[KeyFrame], video: Path) -> dict[int, Image]:
    """The frames' pictures from ``video``, fitted to :data:`PICTURE_BOX`; a video that
    cannot be read gives none (the report then draws the skeleton on a plain ground)."""
    import av
    import cv2

    from dance_analysis.errors import DanceAnalysisError
    from dance_analysis.video.frames import FrameDecoder

    pictures: dict[int, Image] = {}
    try:
        with FrameDecoder(video) as decoder:
            for frame in frames:
                image = decoder.frame(_nearest(decoder.t_ms, frame.t_ms))
                size = _fit(image.shape[1], image.shape[0])
                pictures[frame.index] = np.ascontiguousarray(
                    cv2.resize(image, size, interpolation=cv2.INTER_AREA)
                )
    except (EOFError, DanceAnalysisError, av.error.FFmpegError) as error:
        log.warning("report pictures not decoded from %s: %s", video.name, error)
        return {}
    return pictures


# --- the page --------------------------------------------------------------------------


def render_html(motion: Motion, frames: Sequence[KeyFrame]) -> str:
    """The whole page as one string (escaped: every text comes from the result)."""
    header = motion.header
    video = header.get("video") or {}
    name = str(video.get("name") or "Your dance")
    sections = [
        _title(name, header),
        _pictures_section(frames),
        _feedback_section(header.get("feedback") or ()),
        _timing_section(header.get("music") or {}, header.get("timing") or {}),
        _comparison_section(header.get("comparison")),
        _plots_section(motion),
    ]
    generator = header.get("generator") or {}
    footer = (
        f"<footer>Made by {escape(str(generator.get('name', 'dance-analysis')))} "
        f"{escape(str(generator.get('version', '')))} from the analysis of "
        f"{escape(name)}.</footer>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{escape(name)}: dance report</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(section for section in sections if section)}{footer}"
        "</main></body></html>\n"
    )


def clock(t_ms: float) -> str:
    """``m:ss`` of a time on the clip's clock."""
    seconds = max(0, int(t_ms // 1000))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _date(created_at: Any) -> str:
    try:
        when = dt.datetime.fromisoformat(str(created_at))
    except ValueError:
        return ""
    return f"{when.day} {when:%B %Y}"


def _title(name: str, header: Mapping[str, Any]) -> str:
    video = header.get("video") or {}
    facts = [_date(header.get("created_at"))]
    duration = video.get("duration_s")
    if isinstance(duration, (int, float)):
        facts.append(f"{clock(duration * 1000)} long")
    coverage = header.get("coverage")
    if isinstance(coverage, (int, float)):
        facts.append(f"dancer seen in {coverage:.0%} of the frames")
    shown = " · ".join(escape(fact) for fact in facts if fact)
    return (
        f'<header><p class="kicker">Dance report</p><h1>{escape(name)}</h1>'
        f'<p class="facts">{shown}</p></header>'
    )


def _count_label(item: Mapping[str, Any]) -> str:
    count = item.get("count")
    if isinstance(count, Mapping):
        return str(count.get("label") or f"count {count.get('count')}")
    return ""


def _pictures_section(frames: Sequence[KeyFrame]) -> str:
    if not frames:
        return ""
    figures = []
    for frame in frames:
        lines = [f'<span class="time">{format_time(frame.t_ms)}</span>']
        label = next((_count_label(item) for item in frame.items if _count_label(item)), "")
        if label:
            lines.append(f'<span class="count">{escape(label)}</span>')
        notes = "".join(
            f'<li class="{_severity(item)}">{escape(str(item.get("message", "")))}</li>'
            for item in frame.items
        ) + "".join(
            f'<li class="note">{escape(_mark_text(mark))}</li>'
            for mark in frame.marks
            if _mark_text(mark)
        )
        picture = (
            f'<img src="data:image/jpeg;base64,{base64.b64encode(frame.jpeg).decode()}" '
            f'alt="The dancer at {format_time(frame.t_ms)}">'
            if frame.jpeg
            else ""
        )
        figures.append(
            f'<figure class="key">{picture}<figcaption>{" ".join(lines)}'
            f"{f'<ul>{notes}</ul>' if notes else ''}</figcaption></figure>"
        )
    return f'<section><h2>Key moments</h2><div class="keys">{"".join(figures)}</div></section>'


def _mark_text(mark: Mark) -> str:
    if mark.kind == "note":
        return f"Coach's note: {mark.text}"
    return f"Coach's {mark.kind}: {mark.text}" if mark.text else ""


def _severity(item: Mapping[str, Any]) -> str:
    severity = str(item.get("severity", "info"))
    return severity if severity in _SEVERITY_ORDER else "info"


def _feedback_section(items: Iterable[Mapping[str, Any]]) -> str:
    rows = [
        f'<li class="{_severity(item)}"><span class="time">'
        f"{format_time(float(item.get('time_ms', 0)))}</span>"
        + (
            f' <span class="count">{escape(_count_label(item))}</span>'
            if _count_label(item)
            else ""
        )
        + f"<p>{escape(str(item.get('message', '')))}</p></li>"
        for item in sorted(items, key=lambda item: float(item.get("time_ms", 0)))
    ]
    if not rows:
        return '<section><h2>Feedback</h2><p class="quiet">Nothing to point out.</p></section>'
    return f'<section><h2>Feedback</h2><ul class="feedback">{"".join(rows)}</ul></section>'


def _offset_words(offset_ms: float) -> str:
    if abs(offset_ms) < 20:
        return f"on the beat ({offset_ms:+.0f} ms)"
    if offset_ms > 0:
        return f"{offset_ms:.0f} ms after the beat (late)"
    return f"{-offset_ms:.0f} ms before the beat (early)"


def _timing_section(music: Mapping[str, Any], timing: Mapping[str, Any]) -> str:
    if not music.get("present"):
        reason = _NO_MUSIC.get(str(music.get("reason")), "No music was found in the clip.")
        return f'<section><h2>Tempo and timing</h2><p class="quiet">{escape(reason)}</p></section>'
    facts = [("Tempo", f"{float(music.get('tempo_bpm') or 0):.0f} beats per minute")]
    if music.get("beats_per_bar"):
        facts.append(("Metre", f"{int(music['beats_per_bar'])} beats to a bar"))
    mean = timing.get("mean_offset_ms")
    facts.append(
        (
            "Your steps",
            "not matched to the beat"
            if not isinstance(mean, (int, float))
            else f"on average {_offset_words(float(mean))}",
        )
    )
    table = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    phrases = [
        f"<tr><td>{int(p['phrase']) + 1}</td><td>{clock(float(p['start_ms']))}</td>"
        f"<td>{_signed_ms(p.get('mean_offset_ms'))}</td>"
        f"<td>{_percent(p.get('consistency'))}</td></tr>"
        for p in timing.get("by_phrase") or ()
    ]
    by_phrase = (
        '<table class="grid"><thead><tr><th>8-count</th><th>From</th><th>Offset</th>'
        f"<th>Steadiness</th></tr></thead><tbody>{''.join(phrases)}</tbody></table>"
        '<p class="quiet">Offset: positive is after the beat (late), negative before it '
        "(early).</p>"
        if phrases
        else ""
    )
    return f'<section><h2>Tempo and timing</h2><dl class="facts">{table}</dl>{by_phrase}</section>'


def _signed_ms(value: Any) -> str:
    return f"{float(value):+.0f} ms" if isinstance(value, (int, float)) else "–"


def _percent(value: Any) -> str:
    return f"{float(value):.0%}" if isinstance(value, (int, float)) else "–"


def _grade(score: Any) -> str:
    if not isinstance(score, (int, float)):
        return "none"
    return "good" if score >= 80 else "fair" if score >= 60 else "poor"


def _score(score: Any) -> str:
    return f"{float(score):.0f}" if isinstance(score, (int, float)) else "–"


def _comparison_section(comparison: Any) -> str:
    """The teacher comparison: the scores, then the count sheet (one row a segment)."""
    if not isinstance(comparison, Mapping):
        return ""
    reference = (comparison.get("reference") or {}).get("source") or "the teacher's clip"
    overall = comparison.get("overall")
    parts = comparison.get("parts") or {}
    part_names = list(_PART_LABELS)
    summary = (
        f"<p>Compared with <b>{escape(str(reference))}</b>: "
        f'<span class="score {_grade(overall)}">{_score(overall)}</span> of 100'
        + (" (danced as a mirror image)" if comparison.get("mirrored") else "")
        + ".</p>"
    )
    part_cells = "".join(
        f'<td class="{_grade(parts.get(p))}">{_score(parts.get(p))}</td>' for p in part_names
    )
    heads = "".join(f"<th>{escape(_PART_LABELS[p])}</th>" for p in part_names)
    rows = []
    for segment in comparison.get("segments") or ():
        scores = segment.get("parts") or {}
        cells = "".join(
            f'<td class="{_grade(scores.get(p))}'
            f'{" worst" if p == segment.get("worst_part") else ""}">{_score(scores.get(p))}</td>'
            for p in part_names
        )
        rows.append(
            f"<tr><th>{escape(str(segment.get('label', '')))}</th>"
            f'<td class="{_grade(segment.get("score"))}">{_score(segment.get("score"))}</td>'
            f"<td>{_ahead_behind(segment.get('timing_ms'))}</td>{cells}</tr>"
        )
    sheet = (
        '<div class="scroll"><table class="grid sheet"><thead><tr><th>Counts</th>'
        f"<th>Score</th><th>Timing</th>{heads}</tr></thead>"
        f'<tbody><tr class="whole"><th>Whole clip</th>'
        f'<td class="{_grade(overall)}">{_score(overall)}</td><td></td>{part_cells}</tr>'
        f"{''.join(rows)}</tbody></table></div>"
        '<p class="quiet">Scores out of 100: green from 80, amber from 60. Bold: the part to '
        "work on in that segment.</p>"
    )
    return f"<section><h2>Against the teacher</h2>{summary}<h3>Count sheet</h3>{sheet}</section>"


def _ahead_behind(timing_ms: Any) -> str:
    if not isinstance(timing_ms, (int, float)):
        return "–"
    if abs(timing_ms) < 40:
        return "together"
    return f"{abs(timing_ms):.0f} ms {'behind' if timing_ms > 0 else 'ahead'}"


# --- the angle plots -------------------------------------------------------------------

_PLOT_W, _PLOT_H = 420, 180  # a phone shows it near its own size, so text stays legible
_LEFT, _RIGHT, _TOP, _BOTTOM = 38, 6, 24, 22


def _plots_section(motion: Motion) -> str:
    if len(motion.t_ms) < 2:
        return ""
    music = motion.header.get("music") or {}
    beats = [float(t) for t in music.get("beats_ms") or ()] if music.get("present") else []
    downbeats = {float(t) for t in music.get("downbeats_ms") or ()} if beats else set()
    plots = [
        angle_plot_svg(title, motion.t_ms, series, beats, downbeats)
        for title, names in _PLOTS
        if (series := {name: motion.angles[name] for name in names if name in motion.angles})
    ]
    if not plots:
        return ""
    legend = (
        '<p class="legend"><span class="left">■ left</span> <span class="right">■ right'
        "</span>" + (" · faint lines: the beats, darker: each bar's 1" if beats else "") + "</p>"
    )
    return f"<section><h2>Joint angles</h2>{legend}{''.join(plots)}</section>"


def angle_plot_svg(
    title: str,
    t_ms: npt.NDArray[np.float64],
    series: Mapping[str, npt.NDArray[np.float64]],
    beats_ms: Sequence[float] = (),
    downbeats_ms: Iterable[float] = (),
) -> str:
    """One plot as inline SVG: degrees over the clip's time, beats as vertical lines."""
    start, end = float(t_ms[0]), float(t_ms[-1])
    span = max(end - start, 1.0)
    finite = [values[np.isfinite(values)] for values in series.values()]
    top = max([float(v.max()) for v in finite if len(v)] + [90.0])
    top = min(180.0, math.ceil(top / 45.0) * 45.0)
    inner_w, inner_h = _PLOT_W - _LEFT - _RIGHT, _PLOT_H - _TOP - _BOTTOM

    def x(t: float) -> float:
        return _LEFT + (t - start) / span * inner_w

    def y(degrees: float) -> float:
        return _TOP + (1.0 - degrees / top) * inner_h

    parts = [
        f'<svg class="plot" viewBox="0 0 {_PLOT_W} {_PLOT_H}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="2" y="15" class="title">{escape(title)}</text>',
    ]
    downbeats = set(downbeats_ms)
    for beat in beats_ms:
        if start <= beat <= end:
            kind = "bar" if beat in downbeats else "beat"
            parts.append(
                f'<line class="{kind}" x1="{x(beat):.1f}" x2="{x(beat):.1f}" '
                f'y1="{_TOP}" y2="{_TOP + inner_h}"/>'
            )
    for degrees in np.arange(0.0, top + 1.0, 45.0):
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{_LEFT + inner_w}" '
            f'y1="{y(degrees):.1f}" y2="{y(degrees):.1f}"/>'
            f'<text class="axis" x="{_LEFT - 4}" y="{y(degrees) + 4:.1f}" '
            f'text-anchor="end">{degrees:.0f}°</text>'
        )
    step_s = _tick_step(span / 1000.0)
    tick = math.ceil(start / 1000.0 / step_s) * step_s
    while tick * 1000.0 <= end:
        parts.append(
            f'<text class="axis" x="{x(tick * 1000.0):.1f}" y="{_PLOT_H - 6}" '
            f'text-anchor="middle">{clock(tick * 1000.0)}</text>'
        )
        tick += step_s
    stride = max(1, math.ceil(len(t_ms) / PLOT_POINTS))
    for name, values in series.items():
        side = (
            "left" if name.startswith("left_") else "right" if name.startswith("right_") else "mid"
        )
        for run in _runs(t_ms[::stride], values[::stride]):
            points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in run)
            parts.append(
                f'<polyline fill="none" stroke="{_LINE_COLOURS[side]}" stroke-width="1.6" '
                f'stroke-linejoin="round" points="{points}"/>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _tick_step(seconds: float) -> float:
    """A time-axis step giving at most about eight labels."""
    for step in (1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0):
        if seconds / step <= 8:
            return step
    return 600.0


def _runs(
    t_ms: npt.NDArray[np.float64], values: npt.NDArray[np.float64]
) -> list[list[tuple[float, float]]]:
    """The stretches of ``values`` without a gap (NaN), as (time, value) points."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for t, value in zip(t_ms.tolist(), values.tolist(), strict=True):
        if math.isfinite(value):
            current.append((t, value))
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return [run for run in runs if len(run) > 1]


_CSS = """
:root{color-scheme:light;--ink:#1d1d1f;--quiet:#6b6b70;--card:#fff;--ground:#f3f1ee;
--accent:#b4451f;--good:#bfe5b5;--fair:#ffdc8f;--poor:#f4aaa4}
*{box-sizing:border-box}
body{margin:0;background:var(--ground);color:var(--ink);
font:16px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:720px;margin:0 auto;padding:12px}
header{padding:8px 4px 4px}
.kicker{margin:0;color:var(--accent);font-weight:600;text-transform:uppercase;
letter-spacing:.08em;font-size:12px}
h1{margin:2px 0 4px;font-size:24px;line-height:1.2;overflow-wrap:anywhere}
h2{margin:0 0 10px;font-size:19px}
h3{margin:16px 0 8px;font-size:16px}
.facts{color:var(--quiet);margin:0 0 8px;font-size:14px}
section{background:var(--card);border-radius:14px;padding:14px;margin:12px 0;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
.keys{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(300px,100%),1fr));gap:16px}
figure.key{margin:0}
figure.key img{display:block;width:100%;height:auto;border-radius:10px;background:#242424}
figcaption{padding:6px 2px 0;font-size:15px}
figcaption ul{margin:4px 0 0;padding-left:18px}
.time{font-weight:700;font-variant-numeric:tabular-nums}
.count{color:var(--quiet);font-size:14px}
ul.feedback{list-style:none;margin:0;padding:0}
ul.feedback li{border-left:4px solid #9bb7d4;padding:6px 10px;margin:0 0 8px;
background:#f8f8fa;border-radius:0 8px 8px 0}
ul.feedback li p{margin:2px 0 0}
li.warning{border-left-color:#e6a700 !important}
li.critical{border-left-color:#d2462d !important}
li.note{color:#7a5b00}
dl.facts{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:0;color:var(--ink)}
dl.facts dt{color:var(--quiet)}
dl.facts dd{margin:0;font-weight:600}
table.grid{border-collapse:collapse;width:100%;margin-top:10px;font-size:14px;
font-variant-numeric:tabular-nums}
table.grid th,table.grid td{padding:5px 6px;text-align:center;border-bottom:1px solid #e6e4e0}
table.grid th:first-child{text-align:left;white-space:nowrap}
.scroll{overflow-x:auto}
.sheet td.good,.score.good{background:var(--good)}
.sheet td.fair,.score.fair{background:var(--fair)}
.sheet td.poor,.score.poor{background:var(--poor)}
.sheet td.worst{font-weight:800;text-decoration:underline}
.sheet tr.whole{font-weight:700}
.score{padding:1px 8px;border-radius:8px;font-weight:700}
.quiet{color:var(--quiet);font-size:14px}
.legend{margin:0 0 6px;font-size:14px;color:var(--quiet)}
.legend .left{color:#d9730d}.legend .right{color:#1a8fc9}
svg.plot{display:block;width:100%;height:auto;margin:6px 0 10px}
svg.plot .title{font:600 14px sans-serif;fill:#333}
svg.plot .axis{font:11px sans-serif;fill:#666}
svg.plot line.grid{stroke:#e4e2de;stroke-width:1}
svg.plot line.beat{stroke:#d9d4f0;stroke-width:1}
svg.plot line.bar{stroke:#9e92d6;stroke-width:1.2}
footer{color:var(--quiet);font-size:12px;text-align:center;padding:8px 0 20px}
"""
