"""Dance Analysis: the composition root and command line.

    python main.py                          the desktop app (window + API + queue)
    python main.py analyze CLIP --out DIR   one clip, no server, a progress bar

Only the standard library is imported at module level, so ``--help`` answers at once;
each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_REFUSED = 3  # the clip cannot be analysed (its reason code is printed)
EXIT_OUTPUT = 4  # the results cannot be written
EXIT_CANCELED = 130


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dance-analysis",
        description="Turn a clip of a dancer into a skeleton overlay, joint angles and feedback.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    analyze = commands.add_parser(
        "analyze",
        help="analyse one clip and write its artifacts into a folder",
        description=(
            "Analyse one clip. Writes result.json, overlay.mp4, landmarks.csv, angles.csv and "
            "coco17.json into DIR. Exit codes: 0 done, 3 clip refused, 4 output not writable."
        ),
    )
    analyze.add_argument("clip", type=Path, metavar="CLIP", help="the video file to analyse")
    analyze.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    analyze.add_argument(
        "--backend",
        choices=("mediapipe", "mock"),
        help="pose backend (default: mediapipe; mock when USE_MOCK_ANALYSIS=true)",
    )
    analyze.add_argument(
        "--model-complexity", type=int, choices=(0, 1, 2), help="BlazePose lite/full/heavy"
    )
    analyze.add_argument("--cutoff-hz", type=float, help="low-pass cut-off for cleaning (Hz)")
    analyze.add_argument("--no-overlay", action="store_true", help="skip the overlay video")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


class _RichProgress:
    """The pipeline's progress shown as a rich progress bar on the terminal."""

    _STAGES: ClassVar[dict[str, str]] = {
        "probe": "Reading the clip",
        "pose": "Finding the dancer",
        "measure": "Measuring",
        "write": "Writing results",
    }

    def __init__(self, progress: Any) -> None:
        self._progress = progress
        self._task = progress.add_task("Starting", total=None)

    def on_stage(self, stage: str) -> None:
        self._progress.update(self._task, description=self._STAGES.get(stage, stage))

    def on_frames(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total)

    def should_cancel(self) -> bool:
        return False


@contextlib.contextmanager
def _native_stderr_silenced(enabled: bool) -> Iterator[None]:
    """Drop what C++ libraries (MediaPipe, TFLite) print on fd 2; Python keeps stderr.

    Their start-up chatter would break the progress bar and the one-line errors.
    ``--verbose`` keeps it.
    """
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    python_stderr = sys.stderr
    sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        sys.stderr.close()
        sys.stderr = python_stderr


def _analyze(args: argparse.Namespace) -> int:
    from dance_analysis.analysis import AnalysisOptions
    from dance_analysis.config import Settings
    from dance_analysis.pipeline import PipelineOptions
    from dance_analysis.video import VideoLimits

    settings = Settings()
    options = PipelineOptions(
        backend=args.backend or settings.effective_backend,
        model_complexity=args.model_complexity
        if args.model_complexity is not None
        else settings.model_complexity,
        limits=VideoLimits(
            max_side_px=settings.max_side_px, max_duration_s=settings.max_duration_s
        ),
        analysis=AnalysisOptions(
            cutoff_hz=args.cutoff_hz or settings.filter_cutoff_hz,
            max_gap_s=settings.max_gap_s,
            visibility_min=settings.visibility_min,
        ),
        overlay=settings.overlay and not args.no_overlay,
        overlay_crf=settings.overlay_crf,
        overlay_preset=settings.overlay_preset,
    )

    from rich.console import Console

    console = Console(stderr=True)
    with _native_stderr_silenced(not args.verbose):
        return _run_analysis(args, options, console)


def _run_analysis(args: argparse.Namespace, options: Any, console: Any) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from dance_analysis.errors import CanceledError, DanceAnalysisError, MediaError
    from dance_analysis.pipeline import NullProgress, analyze_clip

    console.file = sys.stderr
    try:
        if args.quiet or not console.is_terminal:
            outcome = analyze_clip(args.clip, args.out, options, NullProgress())
        else:
            columns = (
                TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("frames"), TimeRemainingColumn(),
            )  # fmt: skip
            with Progress(*columns, console=console, transient=True) as bar:
                outcome = analyze_clip(args.clip, args.out, options, _RichProgress(bar))
    except MediaError as error:
        print(f"dance-analysis: cannot analyse {args.clip}: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except CanceledError:
        return EXIT_CANCELED
    except DanceAnalysisError as error:
        print(f"dance-analysis: {error}", file=sys.stderr)
        return EXIT_OUTPUT

    found = outcome.frames_with_person
    print(
        f"Analysed {outcome.frame_count} frames in {outcome.elapsed_s:.1f} s "
        f"(dancer found in {found}), {outcome.feedback_count} feedback items → {outcome.out_dir}"
    )
    for warning in outcome.warnings:
        print(f"warning: {warning['message']} [{warning['reason']}]", file=sys.stderr)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "analyze":
        try:
            return _analyze(args)
        except KeyboardInterrupt:
            print("dance-analysis: interrupted", file=sys.stderr)
            return EXIT_CANCELED
    # The desktop window, the server and the worker arrive with their own issues.
    parser.print_help()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
