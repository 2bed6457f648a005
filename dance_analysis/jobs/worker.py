"""Running one job: claim it, analyse it in a child process, publish, finish.

Every write a worker makes to a job row is *fenced*: it applies only while the row
is still ``started`` by this worker on this attempt (``worker_id`` and ``attempts``).
A worker whose lease lapsed (a long pause, a lost database) and whose job the sweep
handed to someone else therefore cannot overwrite the new attempt; it notices at its
next heartbeat, kills its child and walks away.

The attempt's ending is decided in one place (:class:`Ending`) and written in one
transaction through :mod:`dance_analysis.jobs.transitions`: ``finished`` with its
artifacts (and, on a desktop with S3, the files to sync), ``failed`` with a reason,
``canceled``, or lost (the child died: queued again, or ``failed``/``worker_lost``
after ``max_attempts``). This module owns the process side: the heartbeat, the child
process with its time limit, progress relayed into the row, and publishing.

A comparison job runs on the worker's own thread instead (no model, no child): the
same checks (:class:`_Watch`: lease, cancel, time limit, shutdown) run after every
picture of its videos, from their progress callback, so it stops as an analysis does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import multiprocessing
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, auto
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from dance_analysis.artifacts import ARTIFACT_NAMES
from dance_analysis.config import Settings
from dance_analysis.db import Database, utcnow
from dance_analysis.digests import sha256_of_file
from dance_analysis.errors import DanceAnalysisError, InvalidMarks, ObjectMissing, Reason
from dance_analysis.jobs import transitions
from dance_analysis.jobs.child import run_analysis
from dance_analysis.jobs.comparisons import announce, follow_ups, inputs, run_comparison
from dance_analysis.jobs.options import pipeline_options
from dance_analysis.jobs.queue import JobQueue
from dance_analysis.jobs.records import JobRecord, OutboxRecord
from dance_analysis.jobs.states import ENDED, JobStatus
from dance_analysis.jobs.transitions import (
    CANCELED_MESSAGE,
    CANCELED_REASON,
    enqueue_job,
    locked_job,
)
from dance_analysis.jobs.views import JobView
from dance_analysis.jobs.workdirs import work_dir
from dance_analysis.marks import Mark, parse_marks
from dance_analysis.pipeline import PipelineOptions
from dance_analysis.pose.devices import remember_device
from dance_analysis.stages import Stage
from dance_analysis.storage.base import Storage, content_type_for
from dance_analysis.storage.keys import job_prefixes, result_key

log = logging.getLogger(__name__)

_POLL_S = 0.2
_PROGRESS_EVERY_S = 1.0  # progress rows written at most this often (stages at once)
_CHILD_TERM_GRACE_S = 5.0  # SIGTERM, then SIGKILL after this long
_STAGE_SPANS = {
    Stage.FETCH: (0, 2), Stage.PROBE: (2, 4), Stage.POSE: (4, 90), Stage.MEASURE: (90, 93),
    Stage.WRITE: (93, 97), Stage.PUBLISH: (97, 99),
}  # fmt: skip
# A comparison: reading and comparing take moments; encoding its videos is the work.
_COMPARE_SPANS = {
    Stage.FETCH: (0, 2), Stage.MEASURE: (2, 5), Stage.WRITE: (5, 95), Stage.PUBLISH: (95, 99),
}  # fmt: skip


# --- how an attempt ends -------------------------------------------------------------


class Outcome(Enum):
    """How an attempt ended, as the worker sees it (not a job status: see ``_write_end``)."""

    FINISHED = auto()  # published: the job finishes (or is canceled, if asked meanwhile)
    FAILED = auto()  # the clip or the time limit: the job fails with a reason
    CANCELED = auto()  # a cancel request seen: the job is canceled
    LOST = auto()  # the child died: queued again, or failed/worker_lost
    INTERRUPTED = auto()  # a clean shutdown: queued again, the attempt not counted
    ABANDONED = auto()  # the lease passed to another attempt: nothing is written


@dataclass(frozen=True)
class Ending:
    kind: Outcome
    reason: str | None = None
    message: str | None = None
    artifacts: dict[str, str] = field(default_factory=dict)
    num_frames: int | None = None
    music: dict[str, Any] | None = None  # the summary child.music_summary made
    people: dict[str, Any] | None = None  # {dancer_id, people_seen, ids} (child.py)
    summary: dict[str, Any] | None = None  # the lesson's numbers (analysis.progress)


ABANDONED = Ending(Outcome.ABANDONED)
INTERRUPTED = Ending(Outcome.INTERRUPTED)
CANCELED_ENDING = Ending(Outcome.CANCELED, CANCELED_REASON, CANCELED_MESSAGE)


# --- the stop signal a consumer gives its workers ------------------------------------


class Shutdown:
    """Set by the consumer: no new jobs; running ones may go on until ``abandon_at``."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.abandon_at: float | None = None

    def request(self, grace_s: float) -> None:
        self.abandon_at = time.monotonic() + grace_s
        self.requested.set()

    def abandon_due(self) -> bool:
        return self.abandon_at is not None and time.monotonic() >= self.abandon_at


# --- when an attempt must stop -------------------------------------------------------


class _Stopped(Exception):
    """Raised through a comparison's engine from its progress callback: the attempt ends
    as ``ending`` says (the engine removes what it was writing on the way out)."""

    def __init__(self, ending: Ending) -> None:
        super().__init__(ending.kind.name)
        self.ending = ending


class _Watch:
    """Whether a running attempt must stop now, and how it then ends: its lease passed to
    another attempt, a cancel, the job time limit (``job_time_limit_s`` since this watch
    began, read at every check), or a shutdown whose grace is spent. Analyses and
    comparisons are watched alike."""

    def __init__(
        self, worker: JobWorker, job_id: str, heartbeat: _Heartbeat, shutdown: Shutdown, what: str
    ) -> None:
        self._worker = worker
        self._job_id = job_id
        self._heartbeat = heartbeat
        self._shutdown = shutdown
        self._what = what  # "analysis" or "comparison", for the timeout's message
        self._began = time.monotonic()

    def ending(self) -> Ending | None:
        if self._heartbeat.lost.is_set():
            return ABANDONED
        if self._worker._cancel_seen(self._job_id, self._heartbeat):
            return CANCELED_ENDING
        limit = self._worker.settings.job_time_limit_s
        if time.monotonic() - self._began > limit:
            message = f"The {self._what} took longer than the limit of {limit:g} s."
            return Ending(Outcome.FAILED, Reason.TIMEOUT.value, message)
        if self._shutdown.abandon_due():
            return INTERRUPTED
        return None

    def check(self) -> None:
        """Raise :class:`_Stopped` if the attempt must stop."""
        ending = self.ending()
        if ending is not None:
            raise _Stopped(ending)


# --- the heartbeat -------------------------------------------------------------------


class _Heartbeat:
    """Renews the lease every ``heartbeat_s`` and reads the cancel flag on the way."""

    def __init__(self, worker: JobWorker, job_id: str, attempt: int) -> None:
        self._worker = worker
        self._job_id = job_id
        self._attempt = attempt
        self.lost = threading.Event()
        self.cancel = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"heartbeat-{job_id[:8]}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._worker.settings.heartbeat_s):
            try:
                self._worker.db.write(self._beat)
            except Exception:
                # The lease runs out if this keeps failing; the sweep then takes over.
                log.warning("heartbeat for job %s failed", self._job_id, exc_info=True)

    def _beat(self, session: Session) -> None:
        record = locked_job(session, self._job_id)
        if record is None or not self._worker.owns(record, self._attempt):
            self.lost.set()
            self._stop.set()
            return
        record.lease_expires_at = utcnow() + _seconds(self._worker.settings.lease_s)
        if record.cancel_requested:
            self.cancel.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _source_mismatch(source: Path, view: JobView) -> str | None:
    """Why the clip at ``source`` is not the one its job confirmed, or None.

    A confirmed upload is immutable, but an S3 presigned PUT cannot be revoked: a
    client could still replace the object after confirm. Analysing other bytes than
    the record names would be a silent lie, so the job fails instead.
    """
    size = source.stat().st_size
    if view.size_bytes is not None and size != view.size_bytes:
        return (
            f"The stored clip has {size} bytes, but {view.size_bytes} were confirmed: it was "
            "replaced after the upload was confirmed. Upload it again as a new job."
        )
    if view.sha256 is not None and sha256_of_file(source) != view.sha256.lower():
        return (
            "The stored clip's SHA-256 differs from the confirmed one: it was replaced "
            "after the upload was confirmed. Upload it again as a new job."
        )
    return None


def _seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=value)


# --- the worker ----------------------------------------------------------------------


class JobWorker:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        storage: Storage,
        queue: JobQueue,
        *,
        worker_id: str,
        publish: Callable[[JobView], None],
        local_cancels: set[str],
        sync_results: bool,
    ) -> None:
        self.settings = settings
        self.db = db
        self.storage = storage
        self.queue = queue
        self.worker_id = worker_id
        self._publish = publish
        self._local_cancels = local_cancels  # job ids canceled by this process's service
        self._sync_results = sync_results
        self._options = pipeline_options(settings)

    def owns(self, record: JobRecord, attempt: int) -> bool:
        return transitions.holds(record, self.worker_id, attempt)

    # --- the job ----------------------------------------------------------------------

    def run(self, job_id: str, shutdown: Shutdown) -> None:
        """Run one job to an ending; returns quietly when it is not ours to run."""
        claimed = self.db.write(lambda session: self._claim(session, job_id))
        if claimed is None:
            log.info("job %s is not queued any more; nothing to do", job_id)
            return
        attempt, view = claimed
        self._publish(view)
        log.info("job %s: attempt %d by %s", job_id, attempt, self.worker_id)
        workdir = work_dir(self.settings, job_id, attempt)
        heartbeat = _Heartbeat(self, job_id, attempt)
        try:
            workdir.mkdir(parents=True, exist_ok=True)
            if view.is_comparison:
                ending = self._compare(view, attempt, heartbeat, workdir, shutdown)
            else:
                ending = self._attempt(view, attempt, heartbeat, workdir, shutdown)
        except Exception as error:
            log.exception("job %s: attempt %d broke", job_id, attempt)
            ending = Ending(Outcome.LOST, message=f"{type(error).__name__} in the worker")
        finally:
            heartbeat.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        self._end(job_id, attempt, ending)

    def _claim(self, session: Session, job_id: str) -> tuple[int, JobView] | None:
        record = locked_job(session, job_id)
        if record is None or not transitions.claim(record, self.worker_id, self.settings.lease_s):
            return None
        return record.attempts, JobView.of(record)

    def _attempt(
        self, view: JobView, attempt: int, heartbeat: _Heartbeat, workdir: Path, shutdown: Shutdown
    ) -> Ending:
        gone = Ending(Outcome.FAILED, Reason.OBJECT_MISSING.value, "The uploaded clip is gone.")
        source = self.storage.local_path(view.source_key)
        if source is None:  # S3: bring the clip to this machine
            source = workdir / f"source{Path(view.filename).suffix}"
            try:
                self.storage.fetch(view.source_key, source)
            except ObjectMissing:
                return gone
        elif not source.is_file():
            return gone
        mismatch = _source_mismatch(source, view)
        if mismatch is not None:
            return Ending(Outcome.FAILED, Reason.OBJECT_MISMATCH.value, mismatch)

        relay = _ProgressRelay(self, view.id, attempt)
        # The job's own style (asked for at upload), else the server's setting.
        options = dataclasses.replace(
            self._options,
            style=view.style or self._options.style,
            one_ms=view.one_ms,
            dancer_id=view.dancer_id,
            marks=self._carried_marks(view.id),
        )
        ending, done = self._run_child(
            source, workdir / "out", relay, heartbeat, shutdown, view.id, options
        )
        if done is None:
            return ending

        relay.stage(Stage.PUBLISH)
        files = {name: Path(path_text) for name, path_text in done["artifacts"].items()}
        ending = self._publish_files(
            view.id, files, heartbeat, num_frames=int(done["frame_count"]), music=done.get("music")
        )
        if ending.kind != Outcome.FINISHED:
            return ending
        return dataclasses.replace(ending, people=done.get("people"), summary=done.get("summary"))

    def _carried_marks(self, job_id: str) -> tuple[Mark, ...]:
        """The coach's marks a clip analysed again brings along (``JobService.reanalyse``
        puts them where this job's marks.json goes); none for a new clip."""
        key = result_key(job_id, ARTIFACT_NAMES["marks"])
        if self.storage.stat(key) is None:
            return ()
        try:
            return tuple(parse_marks(json.loads(b"".join(self.storage.open_range(key, 0, None)))))
        except (ValueError, InvalidMarks):  # never in our own file; the analysis goes on
            log.warning("job %s: carried marks unreadable; analysing without them", job_id)
            return ()

    def _publish_files(
        self,
        job_id: str,
        files: dict[str, Path],
        heartbeat: _Heartbeat,
        *,
        num_frames: int | None,
        music: dict[str, Any] | None,
    ) -> Ending:
        """Upload an attempt's files under ``results/{job_id}/``: the FINISHED ending."""
        artifacts = {}
        for name, path in sorted(files.items()):
            if heartbeat.lost.is_set():
                return ABANDONED
            if self._cancel_seen(job_id, heartbeat):
                return CANCELED_ENDING
            key = result_key(job_id, path.name)
            self.storage.put_file(key, path, content_type_for(path.name))
            artifacts[name] = key
        return Ending(Outcome.FINISHED, artifacts=artifacts, num_frames=num_frames, music=music)

    def _compare(
        self, view: JobView, attempt: int, heartbeat: _Heartbeat, workdir: Path, shutdown: Shutdown
    ) -> Ending:
        """A comparison job, on this thread: two result.json and two clips in, result.json,
        ghost.mp4 and practice.mp4 out; no child, no model.

        The comparison itself takes moments (two 60 s clips well under a second); the
        two videos take longer, so their progress callback, after every picture, moves
        the job's progress through the ``write`` stage and stops the attempt as an
        analysis stops (a cancel, the job time limit, a lost lease, a shutdown): the
        engine removes its part-written files, nothing is published, and the working
        folder goes as always.
        """
        relay = _ProgressRelay(self, view.id, attempt, _COMPARE_SPANS)
        watch = _Watch(self, view.id, heartbeat, shutdown, "comparison")

        def on_videos(share: float) -> None:
            watch.check()
            relay.advance(Stage.WRITE, share)

        try:
            student, teacher = self.db.read(lambda session: inputs(session, view))
            relay.stage(Stage.MEASURE)
            watch.check()
            compared = run_comparison(
                self.storage, student, teacher, workdir, fetch_clips=True, progress=on_videos
            )
            watch.check()
        except _Stopped as stopped:
            log.info("job %s: comparison stopped (%s)", view.id, stopped.ending.kind.name)
            return stopped.ending
        except DanceAnalysisError as error:
            return Ending(Outcome.FAILED, error.reason.value, error.message)
        except Exception:
            log.exception("job %s: the comparison failed with a bug", view.id)
            text = "The comparison failed because of an internal error."
            return Ending(Outcome.FAILED, Reason.INTERNAL_ERROR.value, text)
        relay.stage(Stage.PUBLISH)
        ending = self._publish_files(
            view.id, compared.artifacts, heartbeat,
            num_frames=compared.num_frames, music=compared.music,
        )  # fmt: skip
        if ending.kind != Outcome.FINISHED:
            return ending
        return dataclasses.replace(ending, summary=compared.summary)

    def _cancel_seen(self, job_id: str, heartbeat: _Heartbeat) -> bool:
        return heartbeat.cancel.is_set() or job_id in self._local_cancels

    def _run_child(
        self,
        source: Path,
        out_dir: Path,
        relay: _ProgressRelay,
        heartbeat: _Heartbeat,
        shutdown: Shutdown,
        job_id: str,
        options: PipelineOptions,
    ) -> tuple[Ending, dict[str, Any] | None]:
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        cancel = context.Event()
        child = context.Process(
            target=run_analysis,
            args=(str(source), str(out_dir), options, sender, cancel, os.getpid()),
            name=f"analysis-{job_id[:8]}",
            daemon=False,  # the pipeline starts processes of its own
        )
        child.start()
        sender.close()  # ours closed, so the pipe reports EOF when the child's end closes
        watch = _Watch(self, job_id, heartbeat, shutdown, "analysis")
        interrupted = Ending(Outcome.LOST, message="interrupted")
        ending: tuple[Ending, dict[str, Any] | None] = (interrupted, None)
        try:
            ending = self._watch(child, receiver, relay, watch, job_id)
            return ending
        finally:
            # A child that reported its own end is exiting by itself: give it a moment.
            reported = ending[0].kind in (Outcome.FINISHED, Outcome.FAILED) and (
                ending[0].reason != Reason.TIMEOUT.value
            )
            _stop_child(child, exit_wait_s=2.0 if reported else 0.0)
            receiver.close()

    def _watch(
        self, child: Any, receiver: Connection, relay: _ProgressRelay, watch: _Watch, job_id: str
    ) -> tuple[Ending, dict[str, Any] | None]:
        while True:
            stop = watch.ending()
            if stop is not None:
                return stop, None
            if not receiver.poll(_POLL_S):
                continue
            try:
                message = receiver.recv()
            except (EOFError, OSError):
                child.join(_CHILD_TERM_GRACE_S)
                why = f"the analysis process died (exit code {child.exitcode})"
                return Ending(Outcome.LOST, message=why), None
            kind = message[0]
            if kind == "stage":
                relay.stage(Stage(message[1]))
            elif kind == "frames":
                relay.frames(message[1], message[2])
            elif kind == "done":
                remember_device(message[1].get("device"))
                return Ending(Outcome.FINISHED), message[1]
            elif kind == "error":
                if message[1] == Reason.CANCELED.value:
                    return CANCELED_ENDING, None
                return Ending(Outcome.FAILED, message[1], message[2]), None
            elif kind == "bug":
                log.error("job %s: the analysis failed with a bug:\n%s", job_id, message[1])
                text = "The analysis failed because of an internal error."
                return Ending(Outcome.FAILED, Reason.INTERNAL_ERROR.value, text), None

    # --- writing the ending -------------------------------------------------------------

    def _end(self, job_id: str, attempt: int, ending: Ending) -> None:
        if ending.kind == Outcome.ABANDONED:
            log.warning("job %s: attempt %d lost its lease; leaving it", job_id, attempt)
            return
        outcome = self.db.write(lambda session: self._write_end(session, job_id, attempt, ending))
        self._local_cancels.discard(job_id)
        if outcome is None:
            # Deleted meanwhile (or taken over): make sure our uploads do not linger.
            if ending.kind == Outcome.FINISHED and self.db.read(
                lambda s: s.get(JobRecord, job_id) is None
            ):
                self._delete_results(job_id)
            return
        view, requeue, made = outcome
        if view.status == JobStatus.CANCELED and ending.kind == Outcome.FINISHED:
            self._delete_results(job_id)
        self._publish(view)
        if requeue:
            enqueue_job(self.db, self.queue, job_id)
        announce(self.db, self.queue, self._publish, made)  # queued (or failed) by this end

    def _write_end(
        self, session: Session, job_id: str, attempt: int, ending: Ending
    ) -> tuple[JobView, bool, list[JobView]] | None:
        record = locked_job(session, job_id)
        if record is None or not self.owns(record, attempt):
            return None
        requeue = False
        if ending.kind == Outcome.FINISHED and record.cancel_requested:
            ending = CANCELED_ENDING
        if ending.kind == Outcome.FINISHED:
            transitions.finish(
                record, ending.artifacts, ending.num_frames, ending.music, ending.people,
                summary=ending.summary,
            )  # fmt: skip
            if self._sync_results:
                now = utcnow()
                for key in ending.artifacts.values():
                    session.add(
                        OutboxRecord(op="put", key=key, job_id=job_id, next_attempt_at=now,
                                     created_at=now)
                    )  # fmt: skip
        elif ending.kind == Outcome.FAILED:
            transitions.fail(record, ending.reason, ending.message)
        elif ending.kind == Outcome.CANCELED:
            transitions.end_canceled(record)
        elif ending.kind == Outcome.LOST:
            transitions.requeue_or_give_up(
                record, self.settings.max_attempts, ending.message or "unknown"
            )
            requeue = record.status == JobStatus.QUEUED
        elif ending.kind == Outcome.INTERRUPTED:
            # A clean shutdown is not a lost attempt: it does not count toward worker_lost.
            transitions.interrupt(record)
            requeue = True
        made: list[JobView] = []
        if record.status in ENDED:  # comparisons this end decides, in this transaction
            made = [JobView.of(new) for new in follow_ups(session, record, job_id)]
        return JobView.of(record), requeue, made

    def _delete_results(self, job_id: str) -> None:
        try:
            self.storage.delete_prefix(job_prefixes(job_id)[1])
        except Exception:
            log.warning("could not delete results of job %s", job_id, exc_info=True)


class _ProgressRelay:
    """Child progress → the job row (throttled) → job events."""

    def __init__(
        self,
        worker: JobWorker,
        job_id: str,
        attempt: int,
        spans: dict[Stage, tuple[int, int]] = _STAGE_SPANS,
    ) -> None:
        self._worker = worker
        self._job_id = job_id
        self._attempt = attempt
        self._spans = spans  # stage → the percent it starts at and ends at
        self._stage = Stage.FETCH
        self._percent = 0
        self._written_at = 0.0

    def stage(self, stage: Stage) -> None:
        self._stage = stage
        self._percent = max(self._percent, self._spans.get(stage, (self._percent,))[0])
        self._write()

    def frames(self, done: int, total: int) -> None:
        self.advance(Stage.POSE, done / total if total > 0 else 0.0)

    def advance(self, stage: Stage, share: float) -> None:
        """``share`` (0–1) of ``stage`` done: a new stage is written at once, the rest
        at most every ``_PROGRESS_EVERY_S``."""
        if stage != self._stage:
            self.stage(stage)
        low, high = self._spans[stage]
        share = min(max(share, 0.0), 1.0)
        self._percent = max(self._percent, int(low + (high - low) * share))
        if time.monotonic() - self._written_at >= _PROGRESS_EVERY_S:
            self._write()

    def _write(self) -> None:
        self._written_at = time.monotonic()
        stage, percent = self._stage, self._percent

        def update(session: Session) -> JobView | None:
            record = locked_job(session, self._job_id)
            if record is None or not self._worker.owns(record, self._attempt):
                return None
            record.stage = stage
            record.progress = percent
            record.updated_at = utcnow()
            return JobView.of(record)

        try:
            view = self._worker.db.write(update)
        except Exception:
            log.warning("could not record progress of job %s", self._job_id, exc_info=True)
            return
        if view is not None:
            self._worker._publish(view)


def _stop_child(child: Any, *, exit_wait_s: float = 0.0) -> None:
    """SIGTERM to the child's process group, a grace period, then SIGKILL; always reaped."""
    if exit_wait_s:
        child.join(exit_wait_s)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not child.is_alive():
            break
        _signal_group(child, sig)
        child.join(_CHILD_TERM_GRACE_S)
    child.join()
    child.close()


def _signal_group(child: Any, sig: int) -> None:
    pid = child.pid
    try:
        # Only once the child leads its own group: killpg on any other group could
        # hit this worker itself.
        if hasattr(os, "killpg") and os.getpgid(pid) == pid:
            os.killpg(pid, sig)
            return
    except (ProcessLookupError, PermissionError):
        pass
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
