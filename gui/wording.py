"""The words a coach reads: joint and measure names, units, and feedback lines.

The result file names things as a program does (``left_knee``,
``body_speed_mean_m_per_s``); this module turns them into a table a coach can read
line by line ("Left knee angle | lowest–highest | 35–170°"), so the views never show a
dotted key. A metric this module has no words for still gets a readable line from
its key, with the unit its suffix names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dance_analysis.analysis.feedback import format_time

# A time the way feedback messages write one (0:04.2, 1:05) — see format_time.
_TIME_IN_TEXT = re.compile(r"\b\d+:\d{2}(\.\d)?\b")
_UNIT_SUFFIXES = (
    ("_m2_per_s2", " m²/s²"), ("_m_per_s", " m/s"), ("_deg", "°"), ("_ms", " ms"),
    ("_s", " s"), ("_fraction", ""),
)  # fmt: skip


def joint_words(name: str) -> str:
    """``left_knee`` → ``left knee``; ``trunk`` → ``trunk``."""
    return name.replace("_", " ").strip()


def angle_label(name: str) -> str:
    """What an angle series is called in the plot's legend and the summary."""
    if name == "trunk":
        return "Trunk lean"
    return f"{joint_words(name).capitalize()} angle"


def curve_label(name: str) -> str:
    """An angle's name in the plot's legend (the axis already says "angle")."""
    if name == "trunk":
        return "Trunk lean"
    return joint_words(name).capitalize()


@dataclass(frozen=True)
class Row:
    """One line of the Summary table; a row with only ``measure`` heads a section."""

    measure: str
    what: str = ""
    value: str = ""

    @property
    def is_heading(self) -> bool:
        return not self.what and not self.value


def summary_rows(summary: Mapping[str, Any], metrics: Mapping[str, Any]) -> list[Row]:
    """The result's angle summaries and metrics as lines with names and units."""
    rows: list[Row] = [Row("Joint angles")]
    for name, stats in summary.items():
        rows.append(_angle_row(name, stats or {}))
    sections = (
        ("movement", "Movement", _movement_rows),
        ("smoothness", "Smoothness", _smoothness_rows),
        ("symmetry", "Left–right symmetry", _symmetry_rows),
        ("balance", "Balance", _balance_rows),
    )
    for key, heading, rows_of in sections:
        values = metrics.get(key) or {}
        if values:
            rows.append(Row(heading))
            rows += rows_of(values)
    known = {key for key, _, _ in sections}
    others = [(key, value) for key, value in metrics.items() if key not in known]
    if others:
        rows.append(Row("Other measures"))
        rows += _generic_rows(others)
    return rows


def feedback_text(entry: Mapping[str, Any]) -> str:
    """One feedback line: its time once, the message, the joints in words, its count."""
    message = str(entry.get("message") or "").strip()
    text = message
    if not _TIME_IN_TEXT.search(message):
        start = entry.get("time_ms")
        if start is not None:
            when = format_time(float(start))
            end = entry.get("end_ms")
            if end is not None and float(end) > float(start):
                when += f"–{format_time(float(end))}"
            text = f"{when}  {message}"
    joints = [joint_words(str(j)) for j in entry.get("joints") or []]
    unnamed = [j for j in joints if j.lower() not in message.lower()]
    if unnamed:
        text += f"  ({', '.join(unnamed)})"
    count = entry.get("count")  # the count it falls on, when the clip has music
    if isinstance(count, Mapping) and count.get("label") and "Counts" not in message:
        text += f"  · {count['label']}"
    return text


# --- the sections ---------------------------------------------------------------------


def _angle_row(name: str, stats: Mapping[str, Any]) -> Row:
    low, high, mean = stats.get("min"), stats.get("max"), stats.get("mean")
    if low is None or high is None:
        return Row(angle_label(name), "lowest–highest", "not measured")
    value = f"{low:.0f}–{high:.0f}°"
    if mean is not None:
        value += f" (average {mean:.0f}°)"
    coverage = stats.get("coverage")
    if coverage is not None and coverage < 0.95:
        value += f", seen in {coverage:.0%} of frames"
    what = "lean from upright, lowest–highest" if name == "trunk" else "lowest–highest"
    return Row(angle_label(name), what, value)


def _movement_rows(movement: Mapping[str, Any]) -> list[Row]:
    rows = [
        Row("Body speed", "average", _num(movement.get("body_speed_mean_m_per_s"), " m/s", 2)),
        Row("Body speed", "fastest", _num(movement.get("body_speed_peak_m_per_s"), " m/s", 2)),
        Row(
            "Energy",
            "average squared speed",
            _num(movement.get("energy_m2_per_s2"), " m²/s²", 2),
        ),
    ]
    for joint, facts in (movement.get("joints") or {}).items():
        facts = facts or {}
        value = _num(facts.get("mean_m_per_s"), " m/s", 2)
        peak, when = facts.get("peak_m_per_s"), facts.get("peak_time_ms")
        if peak is not None:
            value += f", fastest {peak:.2f} m/s"
            if when is not None:
                value += f" at {format_time(float(when))}"
        what = "average, fastest" if peak is not None else "average"
        rows.append(Row(f"{joint_words(joint).capitalize()} speed", what, value))
    return rows


def _smoothness_rows(smoothness: Mapping[str, Any]) -> list[Row]:
    what = "SPARC: closer to 0 is smoother"
    rows = [Row("Smoothness overall", what, _num(smoothness.get("overall"), "", 2))]
    for joint, score in (smoothness.get("joints") or {}).items():
        rows.append(Row(f"{joint_words(joint).capitalize()} smoothness", what, _num(score, "", 2)))
    return rows


def _symmetry_rows(symmetry: Mapping[str, Any]) -> list[Row]:
    rows = [
        Row("Symmetry overall", "score, 100 = mirror image", _score(symmetry.get("overall_score")))
    ]
    for part, facts in (symmetry.get("parts") or {}).items():
        facts = facts or {}
        value = _num(facts.get("mean_abs_diff_deg"), "°", 0)
        if facts.get("score") is not None:
            value += f" (score {_score(facts.get('score'))})"
        rows.append(
            Row(f"{joint_words(part).capitalize()}s, left vs right", "average difference", value)
        )
    return rows


def _balance_rows(balance: Mapping[str, Any]) -> list[Row]:
    return [
        Row("Over the feet", "share of frames", _percent(balance.get("within_base_fraction"))),
        Row(
            "Centre of mass",
            "across the feet: 0 = left edge, 0.5 = centred, 1 = right edge (as seen)",
            _num(balance.get("com_in_base_mean"), "", 2),
        ),
        Row("Sway", "in shoulder widths", _num(balance.get("sway_shoulder_widths"), "", 2)),
        Row("Balance measured", "share of frames", _percent(balance.get("coverage"))),
    ]


def _generic_rows(items: Iterable[tuple[str, Any]], prefix: str = "") -> list[Row]:
    """Any other measure: its key in words, the unit its suffix names."""
    rows: list[Row] = []
    for key, value in items:
        name, unit = _name_and_unit(key)
        label = f"{prefix}{name}"
        if isinstance(value, Mapping):
            rows += _generic_rows(value.items(), f"{label.capitalize()}: ")
        elif isinstance(value, bool):
            rows.append(Row(label.capitalize(), "", "yes" if value else "no"))
        elif isinstance(value, int | float) or value is None:
            rows.append(Row(label.capitalize(), "", _num(value, unit, 2)))
        elif isinstance(value, str):
            rows.append(Row(label.capitalize(), "", joint_words(value)))
    return rows


def _name_and_unit(key: str) -> tuple[str, str]:
    for suffix, unit in _UNIT_SUFFIXES:
        if key.endswith(suffix):
            return joint_words(key[: -len(suffix)]), unit
    return joint_words(key), ""


def _num(value: Any, unit: str, digits: int) -> str:
    if value is None or not isinstance(value, int | float) or value != value:  # None or NaN
        return "not measured"
    return f"{value:.{digits}f}{unit}".replace("-", "−")


def _score(value: Any) -> str:
    return "not measured" if value is None else f"{value:.0f} / 100"


def _percent(value: Any) -> str:
    return "not measured" if value is None else f"{value:.0%}"
