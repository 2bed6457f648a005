"""Settings → :class:`PipelineOptions`, shared by the worker and the command line."""

from __future__ import annotations

from dance_analysis.analysis.series import AnalysisOptions
from dance_analysis.config import Settings
from dance_analysis.pipeline import PipelineOptions
from dance_analysis.video import VideoLimits


def pipeline_options(settings: Settings) -> PipelineOptions:
    """What a job (or ``main.py analyze`` before its own flags) runs the pipeline with.

    Command-line overrides go on top with ``dataclasses.replace(options, …)``.
    """
    return PipelineOptions(
        backend=settings.effective_backend,
        model_complexity=settings.model_complexity,
        limits=VideoLimits(
            max_side_px=settings.max_side_px, max_duration_s=settings.max_duration_s
        ),
        analysis=AnalysisOptions(
            cutoff_hz=settings.filter_cutoff_hz,
            max_gap_s=settings.max_gap_s,
            visibility_min=settings.visibility_min,
        ),
        overlay=settings.overlay,
        overlay_crf=settings.overlay_crf,
        overlay_preset=settings.overlay_preset,
        style=settings.style,
        mock_people=settings.mock_people,
    )
