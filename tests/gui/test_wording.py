"""The Summary table and feedback lines in a coach's words (hand-checked numbers)."""

from __future__ import annotations

from gui.wording import Row, angle_label, curve_label, feedback_text, summary_rows

METRICS = {
    "movement": {
        "body_speed_mean_m_per_s": 0.4231,
        "body_speed_peak_m_per_s": 1.5,
        "energy_m2_per_s2": 0.25,
        "joints": {
            "left_wrist": {"mean_m_per_s": 0.5, "peak_m_per_s": 1.25, "peak_time_ms": 4200.0}
        },
    },
    "smoothness": {"measure": "sparc", "window_s": 2.0, "joints": {"left_ankle": -1.8},
                   "overall": -1.9},
    "symmetry": {"parts": {"knee": {"mean_abs_diff_deg": 8.2, "score": 81.8}},
                 "overall_score": 81.8},
    "balance": {"com_in_base_mean": 0.52, "within_base_fraction": 0.93,
                "sway_shoulder_widths": 0.12, "coverage": 1.0},
    "tempo_bpm": 96.0,
}  # fmt: skip


def lines(rows: list[Row]) -> list[str]:
    return [" | ".join(part for part in (r.measure, r.what, r.value) if part) for r in rows]


def test_summary_lines_have_names_and_units_not_keys() -> None:
    summary = {
        "left_knee": {"min": 35.2, "max": 170.4, "range": 135.2, "mean": 101.6, "coverage": 1.0},
        "trunk": {"min": 2.0, "max": 25.0, "range": 23.0, "mean": 10.0, "coverage": 0.5},
        "right_elbow": {"min": None, "max": None, "range": None, "mean": None, "coverage": 0.0},
    }

    assert lines(summary_rows(summary, METRICS)) == [
        "Joint angles",
        "Left knee angle | lowest–highest | 35–170° (average 102°)",
        "Trunk lean | lean from upright, lowest–highest | 2–25° (average 10°), "
        "seen in 50% of frames",
        "Right elbow angle | lowest–highest | not measured",
        "Movement",
        "Body speed | average | 0.42 m/s",
        "Body speed | fastest | 1.50 m/s",
        "Energy | average squared speed | 0.25 m²/s²",
        "Left wrist speed | average, fastest | 0.50 m/s, fastest 1.25 m/s at 0:04.2",
        "Smoothness",
        "Smoothness overall | SPARC: closer to 0 is smoother | −1.90",
        "Left ankle smoothness | SPARC: closer to 0 is smoother | −1.80",
        "Left–right symmetry",
        "Symmetry overall | score, 100 = mirror image | 82 / 100",
        "Knees, left vs right | average difference | 8° (score 82 / 100)",
        "Balance",
        "Over the feet | share of frames | 93%",
        "Centre of mass | across the feet: 0 = left edge, 0.5 = centred, 1 = right edge "
        "(as seen) | 0.52",
        "Sway | in shoulder widths | 0.12",
        "Balance measured | share of frames | 100%",
        "Other measures",
        "Tempo bpm | 96.00",
    ]


def test_feedback_shows_its_time_once_and_joints_in_words() -> None:
    timed = {"time_ms": 4200.0, "end_ms": None, "joints": ["left_knee"], "severity": "info",
             "message": "Deepest knee bend: left knee at 35° at 0:04.2."}  # fmt: skip
    untimed = {"time_ms": 3200.0, "end_ms": 5000.0, "joints": ["left_hip", "trunk"],
               "severity": "warning", "message": "Trunk leans forward."}  # fmt: skip

    assert feedback_text(timed) == "Deepest knee bend: left knee at 35° at 0:04.2."
    assert feedback_text(untimed) == "0:03.2–0:05  Trunk leans forward.  (left hip)"
    on_count = {**untimed, "count": {"count": 5, "phrase": 2, "label": "count 5 of phrase 3"}}
    assert feedback_text(on_count).endswith("(left hip)  · count 5 of phrase 3")
    counted = {**timed, "message": "Counts 5–8 of phrase 3: on the beat."}
    counted["count"] = on_count["count"]
    assert feedback_text(counted).count("phrase 3") == 1  # a timing item names its counts


def test_angle_labels() -> None:
    assert angle_label("right_shoulder") == "Right shoulder angle"
    assert angle_label("trunk") == "Trunk lean"
    assert curve_label("left_knee") == "Left knee"
