"""Dance Analysis: the composition root and command line.

    python main.py                          the desktop app (window + API + queue)
    python main.py gui --data-dir D --port P  the same, with options
    python main.py analyze CLIP --out DIR   one clip, no server, a progress bar
    python main.py analyze CLIP --reference TEACHER --out DIR   … compared with a teacher's clip
    python main.py serve                    the API and a queue consumer, no window
                                            (DANCE_API_RUNS_JOBS=false: the API alone)
    python main.py worker                   a queue consumer only (scale-out)
    python main.py worker --check --health-file F   is that worker alive? (container check)
    python main.py token create NAME        a device token for a studio script
    python main.py storage init             create the private S3 bucket (compose's minio-init)

Only the standard library is imported at module level, so ``--help`` answers at once;
each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_REFUSED = 3  # the clip cannot be analysed (its reason code is printed)
EXIT_OUTPUT = 4  # the results cannot be written
EXIT_CANCELED = 130
EXIT_CANNOT_START = 5  # the server cannot listen (port in use, not allowed)
EXIT_NO_MODEL = 6  # the chosen pose backend's model is not installed

STOP_GRACE_S = 30.0  # a running job gets this long to finish before it goes back to queued


def _build_parser() -> argparse.ArgumentParser:
    from dance_analysis.music.styles import STYLE_NAMES  # a table: no heavy imports
    from dance_analysis.pose import BACKEND_HELP  # likewise

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
            "Analyse one clip. Writes result.json, overlay.mp4, landmarks.csv, angles.csv, "
            "coco17.json, people.json, and the original backend's keypoints_2d.json, "
            "keypoints_3d.json and analysis.json into DIR. With --reference, the teacher's "
            "clip is analysed too (its files in DIR/reference/), the student's result.json "
            "gains the comparison, and "
            "ghost.mp4 and practice.mp4 are written. "
            "Every person in the frame is found; the analysis is about one dancer, chosen "
            "by frames seen × size × centrality or by --dancer (the ids are in result.json's "
            "people and in people.json). "
            "Exit codes: 0 done, 2 unknown option value, 3 clip refused (or the two cannot "
            "be compared, or no such dancer), 4 output not writable, 6 model not installed."
        ),
    )
    analyze.add_argument("clip", type=Path, metavar="CLIP", help="the video file to analyse")
    analyze.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    analyze.add_argument(
        "--reference", type=Path, metavar="CLIP",
        help="a teacher's clip to compare the dancer with (its files go to DIR/reference/)",
    )  # fmt: skip
    analyze.add_argument(
        "--backend",
        choices=tuple(BACKEND_HELP),
        metavar="NAME",
        help="pose backend: "
        + "; ".join(f"{name}: {what}" for name, what in BACKEND_HELP.items())
        + " (default: DANCE_POSE_BACKEND, else auto; mock when USE_MOCK_ANALYSIS=true)",
    )
    analyze.add_argument(
        "--dancer",
        type=_dancer_id,
        metavar="ID",
        help="analyse the person with this id (result.json's people, people.json); "
        "default: the one seen in most frames, biggest and most central",
    )
    analyze.add_argument(
        "--model-complexity", type=int, choices=(0, 1, 2), help="BlazePose lite/full/heavy"
    )
    analyze.add_argument("--cutoff-hz", type=float, help="low-pass cut-off for cleaning (Hz)")
    analyze.add_argument(
        "--style",
        choices=STYLE_NAMES,
        metavar="NAME",
        help="dance style, to keep the tempo search in its range (default: auto; "
        f"one of {', '.join(STYLE_NAMES)})",
    )
    analyze.add_argument("--no-overlay", action="store_true", help="skip the overlay video")
    analyze.add_argument("--quiet", action="store_true", help="no progress bar")

    data_dir_help = "where jobs, files and the queue live (default: the user data folder)"
    serve = commands.add_parser(
        "serve",
        help="run the HTTP API and a queue consumer, without a window",
        description=(
            "Run the HTTP API and an embedded queue consumer (a studio box, a container; "
            "DANCE_API_RUNS_JOBS=false leaves every job to `worker` processes). "
            "Prints the URL to use on the network and a one-time pairing code. "
            "SIGINT/SIGTERM stop it gracefully: a running job finishes or goes back to the queue."
        ),
    )
    _add_server_options(serve, data_dir_help)
    serve.add_argument(
        "--no-worker", action="store_true",
        help=(
            "serve the API only; separate `worker` processes run the jobs (a studio's "
            "compose; the same as DANCE_API_RUNS_JOBS=false)"
        ),
    )  # fmt: skip

    worker = commands.add_parser(
        "worker",
        help="run a queue consumer only (scale out against Redis)",
        description=(
            "Run a queue consumer without the API. SIGINT/SIGTERM stop it gracefully. "
            "With --health-file, it writes its state there every few seconds; "
            "--check reads that file and exits 0 when the worker is alive and reaches its "
            "database, queue and storage, 1 otherwise (a container health check)."
        ),
    )
    worker.add_argument("--data-dir", type=Path, metavar="D", help=data_dir_help)
    worker.add_argument(
        "--grace", type=float, default=STOP_GRACE_S, metavar="S",
        help=f"seconds a running job may take to finish on stop (default {STOP_GRACE_S:.0f})",
    )  # fmt: skip
    worker.add_argument(
        "--health-file", type=Path, metavar="F",
        help="write the worker's state here every few seconds (for --check)",
    )  # fmt: skip
    worker.add_argument(
        "--check", action="store_true",
        help="do not run a worker: check the state another worker wrote to --health-file",
    )  # fmt: skip

    gui = commands.add_parser(
        "gui",
        help="the desktop app: a window, the HTTP API on the network and a queue consumer "
        "(the default with no command)",
        description=(
            "Open the desktop app. In the same process it serves the HTTP API on the network "
            "(for phones) and runs the analyses; quitting stops both."
        ),
    )
    _add_server_options(gui, data_dir_help)
    gui.add_argument(
        "--open", type=Path, nargs="*", default=[], metavar="CLIP",
        help="import these clips at start",
    )  # fmt: skip
    gui.add_argument(
        "--quit-after-s", type=float, metavar="S",
        help="(testing) quit by itself after S seconds, as if the user had closed it",
    )  # fmt: skip
    gui.add_argument(
        "--screenshots", type=Path, metavar="DIR",
        help="(docs, testing) once a result is shown, save each main view into DIR and quit",
    )  # fmt: skip

    token = commands.add_parser("token", help="manage device tokens")
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = token_commands.add_parser(
        "create",
        help="create a token and print it (alone, on stdout)",
        description="Create a device token for a script; it is printed once and stored hashed.",
    )
    create.add_argument("name", metavar="NAME", help="what the token is for, e.g. 'studio-sync'")
    create.add_argument("--data-dir", type=Path, metavar="D", help=data_dir_help)

    storage = commands.add_parser("storage", help="manage the S3 / MinIO bucket")
    storage_commands = storage.add_subparsers(
        dest="storage_command", metavar="ACTION", required=True
    )
    storage_commands.add_parser(
        "init",
        help="create the bucket (private) unless it exists",
        description=(
            "Create DANCE_S3_BUCKET at DANCE_S3_ENDPOINT_URL, private, unless it exists "
            "(a studio's compose runs it once at start). Exit 0 when the bucket is there, "
            "1 when S3 cannot be reached, 2 when no bucket is configured."
        ),
    )
    return parser


def _dancer_id(text: str) -> int:
    """``--dancer``: a person's id, a whole number from 1."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a dancer id: use a whole number from 1 (see result.json's people)"
        )
    return int(text)


def _add_server_options(parser: argparse.ArgumentParser, data_dir_help: str) -> None:
    """The options `serve` and the desktop app share."""
    parser.add_argument("--host", metavar="H", help="address to listen on (default 0.0.0.0)")
    parser.add_argument("--port", type=int, metavar="P", help="port (default 8000; 0 picks one)")
    parser.add_argument("--data-dir", type=Path, metavar="D", help=data_dir_help)
    parser.add_argument(
        "--grace", type=float, default=STOP_GRACE_S, metavar="S",
        help=f"seconds a running job may take to finish on stop (default {STOP_GRACE_S:.0f})",
    )  # fmt: skip


class _RichProgress:
    """The pipeline's progress shown as a rich progress bar on the terminal."""

    def __init__(self, progress: Any) -> None:
        from dance_analysis.stages import Stage

        self._stages: dict[str, str] = {
            Stage.PROBE: "Reading the clip",
            Stage.POSE: "Finding the dancer",
            Stage.MEASURE: "Measuring",
            Stage.WRITE: "Writing results",
        }
        self._progress = progress
        self._task = progress.add_task("Starting", total=None)

    def on_stage(self, stage: str) -> None:
        self._progress.update(self._task, description=self._stages.get(stage, stage))

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
    import dataclasses

    from dance_analysis.config import Settings
    from dance_analysis.jobs.options import pipeline_options

    settings = Settings()
    options = pipeline_options(settings)
    options = dataclasses.replace(
        options,
        backend=args.backend or options.backend,
        model_complexity=(
            options.model_complexity if args.model_complexity is None else args.model_complexity
        ),
        analysis=dataclasses.replace(
            options.analysis, cutoff_hz=args.cutoff_hz or options.analysis.cutoff_hz
        ),
        overlay=options.overlay and not args.no_overlay,
        style=args.style or options.style,
        dancer_id=args.dancer,
    )

    from rich.console import Console

    console = Console(stderr=True)
    with _native_stderr_silenced(not args.verbose):
        return _run_analysis(args, options, console)


def _run_analysis(args: argparse.Namespace, options: Any, console: Any) -> int:
    from dataclasses import replace

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from dance_analysis.errors import CanceledError, DanceAnalysisError, MediaError, Reason
    from dance_analysis.pipeline import NullProgress, analyze_clip

    console.file = sys.stderr
    clip = args.clip

    def analyse(clip: Path, out: Path, options: Any = options) -> Any:
        if args.quiet or not console.is_terminal:
            return analyze_clip(clip, out, options, NullProgress())
        columns = (
            TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("frames"), TimeRemainingColumn(),
        )  # fmt: skip
        with Progress(*columns, console=console, transient=True) as bar:
            return analyze_clip(clip, out, options, _RichProgress(bar))

    try:
        outcome = analyse(clip, args.out)
        if args.reference is not None:
            clip = args.reference
            # --dancer names a person in the student's clip; the teacher is found by the rule.
            teacher = analyse(clip, args.out / "reference", replace(options, dancer_id=None))
            compared = _compare_outputs(args, outcome, teacher)
    except MediaError as error:
        print(f"dance-analysis: cannot analyse {clip}: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except CanceledError:
        return EXIT_CANCELED
    except DanceAnalysisError as error:
        if error.reason in (Reason.UNKNOWN_STYLE, Reason.UNKNOWN_BACKEND):
            # from DANCE_STYLE or DANCE_POSE_BACKEND: the flags have choices
            print(f"dance-analysis: {error.message} [{error.reason.value}]", file=sys.stderr)
            return EXIT_USAGE
        if error.reason is Reason.MODEL_UNAVAILABLE:
            print(f"dance-analysis: {error.message} [{error.reason.value}]", file=sys.stderr)
            return EXIT_NO_MODEL
        if error.reason is Reason.CANNOT_COMPARE:
            print(f"dance-analysis: {error.message} [{error.reason.value}]", file=sys.stderr)
            return EXIT_REFUSED
        print(f"dance-analysis: {error}", file=sys.stderr)
        return EXIT_OUTPUT

    found = outcome.frames_with_person
    people = (
        f"; dancer {outcome.dancer_id} of {outcome.people_seen} people in the frame"
        if outcome.people_seen > 1
        else ""
    )
    print(
        f"Analysed {outcome.frame_count} frames in {outcome.elapsed_s:.1f} s "
        f"(dancer found in {found}{people}), {outcome.feedback_count} feedback items, "
        f"{_music_summary(outcome.music)} → {outcome.out_dir}"
    )
    for warning in outcome.warnings:
        print(f"warning: {warning['message']} [{warning['reason']}]", file=sys.stderr)
    if args.reference is not None:
        overall = compared["overall"]
        score = "no score" if overall is None else f"overall {overall:.0f}/100"
        mirrored = ", mirrored" if compared["mirrored"] else ""
        print(f"Compared with {args.reference.name}: {score}{mirrored} → {args.out}")
    return EXIT_OK


def _compare_outputs(args: argparse.Namespace, student: Any, teacher: Any) -> dict[str, Any]:
    """Compare the two analyses just written; the student's result.json gains the
    comparison (the engine's one comparing step, as comparison jobs use)."""
    import json

    from dance_analysis.comparing import write_comparison

    def load(path: Path) -> dict[str, Any]:
        with path.open(encoding="utf-8") as source:
            data: dict[str, Any] = json.load(source)
        return data

    student_result = load(student.artifacts["result"])
    teacher_result = load(teacher.artifacts["result"])
    written = write_comparison(
        student_result, teacher_result, args.out,
        student_clip=args.clip, teacher_clip=args.reference,
    )  # fmt: skip
    comparison: dict[str, Any] = load(written["result"])["comparison"]
    return comparison


#: The reasons ``music.present`` is false, as a person reads them.
_NO_MUSIC = {
    "no_audio": "the clip has no sound",
    "silence": "the sound is silent",
    "too_short": "too little sound for a few bars",
    "no_steady_beat": "no steady beat in the sound",
}


def _music_summary(music: dict[str, Any] | None) -> str:
    """ "at 124 BPM (4/4), 16 eight-counts" or "no music found: the clip has no sound"."""
    if not music or not music.get("present"):
        reason = (music or {}).get("reason", "no_audio")
        return f"no music found: {_NO_MUSIC.get(reason, reason)}"
    phrases = len({c["phrase"] for c in music["counts"]})
    return (
        f"at {music['tempo_bpm']:.0f} BPM ({music['beats_per_bar']}/4), "
        f"{phrases} eight-count{'s' if phrases != 1 else ''}"
    )


def _settings(args: argparse.Namespace, stored: dict[str, Any] | None = None) -> Any:
    """Settings from the environment, then ``stored`` (the desktop's), then the options."""
    from dance_analysis.config import Settings

    overrides: dict[str, Any] = dict(stored or {})
    if getattr(args, "data_dir", None) is not None:
        overrides["data_dir"] = args.data_dir
    if getattr(args, "host", None) is not None:
        overrides["api_host"] = args.host
    if getattr(args, "port", None) is not None:
        overrides["api_port"] = args.port
    return Settings(**overrides)


class _StopRequest:
    """SIGINT/SIGTERM set an event the main thread waits on; nothing else runs in the handler."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_name = ""

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.signal_name = signal.Signals(signum).name
        self.event.set()

    def wait(self) -> None:
        # A short timeout keeps the main thread responsive to signals on every platform.
        while not self.event.wait(0.5):
            pass


def _server_logging() -> None:
    """Servers log requests (INFO) with tokens and signatures redacted."""
    from api.security import install_log_redaction

    logging.getLogger().setLevel(logging.INFO)
    for noisy in ("huey", "botocore", "urllib3", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    install_log_redaction()


def _serve(args: argparse.Namespace) -> int:
    stop = _StopRequest()
    stop.install()  # before anything starts, so an early signal is not lost
    _server_logging()
    settings = _settings(args)

    from api.server import ServerStartError

    try:
        # `--no-worker` (the compose `api` service) or DANCE_API_RUNS_JOBS=false: the
        # jobs run in `main.py worker` processes; the API only records and enqueues.
        run_jobs = settings.api_runs_jobs and not args.no_worker
        backend = Backend(settings, server_required=True, run_jobs=run_jobs)
    except ServerStartError as error:
        print(f"dance-analysis: cannot start the server: {error} [{error.reason}]", file=sys.stderr)
        return EXIT_CANNOT_START
    _print_how_to_connect(backend)
    stop.wait()
    print(f"dance-analysis: {stop.signal_name} received, stopping", file=sys.stderr, flush=True)
    backend.stop(args.grace)
    return EXIT_OK


def _print_how_to_connect(backend: Backend) -> None:
    """The addresses, and a one-time pairing link as text and as a terminal QR code."""
    from api.routes.phone import pairing_link

    assert backend.api_url is not None and backend.local_url is not None  # serve requires it
    print(f"Dance Analysis API listening on {backend.local_url}", flush=True)
    if backend.api_url != backend.local_url:
        print(f"  on your network: {backend.api_url}", flush=True)
    print(f"  API docs:        {backend.local_url}/docs", flush=True)
    if backend.consumer is None:
        print("  jobs:            run by `main.py worker` processes (--no-worker)",
              flush=True)  # fmt: skip
    for problem in backend.problems:
        print(f"WARNING: {problem}", file=sys.stderr, flush=True)
    if backend.settings.auth_disabled:
        return
    code = backend.access.new_pairing_code()
    link = pairing_link(backend.api_url, code.code)
    minutes = backend.settings.pairing_code_ttl_s // 60
    print(
        f"  pairing code:    {code.code} (single use, valid {minutes} min; POST /api/v1/pair)\n"
        f"  pairing link:    {link}\n"
        "  scan it with a phone on the same network:",
        flush=True,
    )
    import segno

    segno.make(link, error="m").terminal(out=sys.stdout, compact=True)
    print(flush=True)  # segno leaves the last row without a line break


HEALTH_INTERVAL_S = 10.0  # how often a worker with --health-file writes its state
HEALTH_STALE_S = 3 * HEALTH_INTERVAL_S + 15.0  # older than this: the worker is stuck or gone


def _worker(args: argparse.Namespace) -> int:
    if args.check:
        return _worker_check(args.health_file)
    stop = _StopRequest()
    stop.install()
    _server_logging()
    settings = _settings(args)

    from dance_analysis.jobs.service import JobService

    service = JobService(settings)
    consumer = service.start_consumer(workers=settings.consumer_workers)
    print(f"dance-analysis worker ready (pid {os.getpid()})", flush=True)
    if args.health_file is None:
        stop.wait()
    else:
        import time

        due = 0.0
        while not stop.event.is_set():
            if time.monotonic() >= due:
                _write_health(args.health_file, service, consumer)
                due = time.monotonic() + HEALTH_INTERVAL_S
            stop.event.wait(0.5)  # short, as in _StopRequest.wait: signals stay responsive
    print(f"dance-analysis worker: {stop.signal_name} received, stopping", file=sys.stderr)
    consumer.stop(args.grace)
    service.close()
    if args.health_file is not None:
        with contextlib.suppress(OSError):
            args.health_file.unlink()
    return EXIT_OK


def _write_health(path: Path, service: Any, consumer: Any) -> None:
    """The worker's state for ``worker --check``, replaced atomically."""
    import json
    import time

    try:
        checks = {name: bool(ok) for name, ok in service.health().items()}
    except Exception:
        logging.getLogger(__name__).exception("worker health check failed")
        checks = {"service": False}
    state = {"time": time.time(), "pid": os.getpid(), "consuming": consumer.running, **checks}
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        partial.write_text(json.dumps(state), encoding="utf-8")
        os.replace(partial, path)
    except OSError as error:
        print(f"dance-analysis worker: cannot write {path}: {error}", file=sys.stderr)


def _worker_check(path: Path | None) -> int:
    """0 when the worker writing ``path`` is alive and reaches its dependencies, else 1.

    Standard library only: a container runs it every half minute.
    """
    import json
    import time

    if path is None:
        print("dance-analysis: worker --check needs --health-file F", file=sys.stderr)
        return EXIT_USAGE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        age = time.time() - float(state["time"])
    except FileNotFoundError:
        print(f"unhealthy: no worker has written {path} yet [no_heartbeat]")
        return 1
    except (OSError, ValueError, KeyError, TypeError):
        print(f"unhealthy: {path} is not a worker's health file [bad_health_file]")
        return 1
    if age > HEALTH_STALE_S:
        print(f"unhealthy: the worker last wrote its state {age:.0f} s ago [stale_heartbeat]")
        return 1
    if not state.get("consuming"):
        print("unhealthy: the worker no longer takes jobs [not_consuming]")
        return 1
    down = sorted(name for name, ok in state.items() if ok is False)
    if down:
        print(f"unhealthy: the worker cannot reach its {', '.join(down)} [dependency_down]")
        return 1
    print(f"healthy: worker pid {state.get('pid')}, state {age:.0f} s old")
    return EXIT_OK


class Backend:
    """What `serve` and the desktop app both run: the job service, access, API, consumer.

    ``server_required``: `serve` exists to serve, so a server that cannot listen is
    fatal there (:class:`api.server.ServerStartError` is raised, nothing is left
    running). The desktop app is useful without it: its window opens and says so in
    ``problems``, and everything but the phones keeps working.

    ``run_jobs``: False leaves the jobs to `main.py worker` processes (an API that
    scales out: `serve --no-worker` or ``DANCE_API_RUNS_JOBS=false``); the API still
    records and enqueues.
    """

    def __init__(self, settings: Any, *, server_required: bool, run_jobs: bool = True) -> None:
        from api.app import AUTH_DISABLED_WARNING, create_app
        from api.security import lan_ipv4
        from api.server import ApiServer, ServerStartError
        from dance_analysis.access import AccessService
        from dance_analysis.jobs.service import JobService

        self.settings = settings
        self._stopped = False
        self.problems: list[str] = []
        self.api_url: str | None = None  # the address phones use (the LAN's when listening on all)
        self.local_url: str | None = None  # the address this machine uses
        self.service = JobService(settings)
        self.access = AccessService(settings)
        self.server: Any = ApiServer(
            create_app(settings, self.service, self.access), settings.api_host, settings.api_port
        )
        try:
            self.server.start()
        except ServerStartError as error:
            self.server = None
            if server_required:
                self.service.close()
                raise
            what = (
                f"Port {settings.api_port} is already used by another program"
                if error.reason == "port_in_use"
                else f"The server could not start ({error})"
            )
            self.problems.append(
                f"{what}, so phones cannot connect. Choose another port under Settings "
                f"and restart. [{error.reason}]"
            )
        else:
            wildcard = settings.api_host in ("0.0.0.0", "::", "")
            local = "127.0.0.1" if wildcard else settings.api_host
            self.local_url = f"http://{local}:{self.server.port}"
            self.api_url = (
                f"http://{lan_ipv4() or local}:{self.server.port}" if wildcard else (self.local_url)
            )
            if settings.auth_disabled:
                self.problems.append(AUTH_DISABLED_WARNING)
        self.consumer: Any = (
            self.service.start_consumer(workers=settings.consumer_workers) if run_jobs else None
        )

    @property
    def port(self) -> int | None:
        return None if self.server is None else int(self.server.port)

    def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Running jobs finish within ``grace_s`` or go back to queued; the port is released."""
        if self._stopped:
            return
        self._stopped = True
        if self.consumer is not None:
            self.consumer.stop(grace_s)
        if self.server is not None:
            self.server.stop()
            self.server = None
        self.service.close()


class DesktopBackend(Backend):
    """The desktop app's back-end: a port in use is a problem to show, not a reason to quit."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings, server_required=False)


def _gui(args: argparse.Namespace) -> int:
    from gui.settings_view import load_overrides

    _server_logging()
    settings = _settings(args, load_overrides())
    backend = DesktopBackend(settings)
    try:
        from gui.app import run_app

        return run_app(
            settings,
            backend.service,
            backend.access,
            api_url=backend.api_url,
            startup_problems=backend.problems,
            open_clips=list(args.open),
            screenshots=args.screenshots,
            quit_after_s=args.quit_after_s,
        )
    finally:
        print("dance-analysis: stopping (a running analysis may take a moment)", file=sys.stderr)
        backend.stop(args.grace)


def _token(args: argparse.Namespace) -> int:
    from dance_analysis.access import AccessService

    access = AccessService(_settings(args))
    print(access.create_token(args.name))
    return EXIT_OK


def _storage_init(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if not settings.s3_bucket:
        print(
            "dance-analysis: no bucket is configured: set DANCE_S3_BUCKET (and "
            "DANCE_S3_ENDPOINT_URL for MinIO) [no_bucket]",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from dance_analysis.storage import s3_storage

    storage = s3_storage(settings)
    where = settings.s3_endpoint_url or "AWS S3"
    try:
        storage.ensure_bucket()
    except Exception as error:
        print(
            f"dance-analysis: cannot create the bucket {settings.s3_bucket} at {where}: "
            f"{error} [storage_unavailable]",
            file=sys.stderr,
        )
        return 1
    print(f"bucket {settings.s3_bucket} is ready at {where} (private)")
    return EXIT_OK


def _with_default_command(argv: list[str]) -> list[str]:
    """Options with no command before them are the desktop app's: insert ``gui``.

    ``python main.py --data-dir D --port P`` then means ``python main.py gui --data-dir D
    --port P``, as the README says; ``-h`` and ``-v`` stay the program's own.
    """
    at = 0
    while at < len(argv) and argv[at] in ("-v", "--verbose"):
        at += 1
    if at == len(argv) or not argv[at].startswith("-") or argv[at] in ("-h", "--help"):
        return argv  # a command (or a typo argparse will name), or the program's help
    return [*argv[:at], "gui", *argv[at:]]


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(_with_default_command(sys.argv[1:] if argv is None else argv))
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
    if args.command == "serve":
        return _serve(args)
    if args.command == "worker":
        return _worker(args)
    if args.command == "token":
        return _token(args)
    if args.command == "storage":
        return _storage_init(args)
    if args.command is None:  # no command: the desktop app with its defaults
        args = parser.parse_args([*(["--verbose"] if args.verbose else []), "gui"])
    return _gui(args)


if __name__ == "__main__":
    import multiprocessing

    # First of all: in the desktop bundle a spawned child (the frame decoder, an analysis)
    # starts this same executable, and this call turns it into that child.
    multiprocessing.freeze_support()
    sys.exit(main())
