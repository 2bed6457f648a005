"""Grab docs/images/library-students.png and docs/images/student-page.png.

The real window over a real back-end on a scratch data folder, filled with a small
demo library: Maya Ortiz (Tuesday juniors) with five lessons a week apart, each a
cut of the squats footage over a drum groove and compared with a teacher's clip so
it has an overall score; Leo Brandt with two clips, so the library shows more than
one student; and the teacher's clip, nobody's. The clips go in through the job
service, as a phone's uploads with the student named do, and are analysed by the
real model (unless ``--mock``). The job service stamps every clip with the moment
it came in; only the lessons' dates are demo data, moved a week apart in the
database afterwards (:func:`spread_lessons`). Run it on an X server, as the other
screenshots were taken, from the repository root::

    xvfb-run -a -s "-screen 0 1600x1000x24" python scripts/students_screenshot.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qt_waits import grab, wait_until  # noqa: E402  (beside this script)

MAYA = ("Maya Ortiz", "Tuesday juniors")
LEO = ("Leo Brandt", "Thursday seniors")
SIZE = (360, 640)  # a quarter of the footage's 720x1280: a sharp picture in the player
SECONDS = 6.0
ENDED = {"finished", "failed", "canceled"}


@dataclass(frozen=True)
class Clip:
    """One demo clip: where in the squats footage it starts, the groove under it."""

    filename: str
    start_s: float
    bpm: float
    beat_s: float  # the groove's first downbeat


TEACHER = Clip("teacher.mp4", 0.0, 124, 0.37)
# Each lesson starts the squats at another moment, over a slightly different groove,
# so her numbers differ from week to week (in this order her timing tightens).
LESSONS = [
    Clip("lesson-1.mp4", 2.2, 120, 0.30),
    Clip("lesson-2.mp4", 3.0, 118, 0.55),
    Clip("lesson-3.mp4", 3.6, 124, 0.25),
    Clip("lesson-4.mp4", 2.6, 124, 0.37),
    Clip("lesson-5.mp4", 1.4, 122, 0.45),
]
LEO_CLIPS = [Clip("leo-warmup.mp4", 4.0, 110, 0.4), Clip("leo-squats.mp4", 1.0, 116, 0.3)]


def make_media(clip: Clip, folder: Path) -> bytes:
    """The squats from ``clip.start_s`` for :data:`SECONDS`, the groove muxed under it."""
    from tests.media import make_clip
    from tests.music.synth import drum_song, mux_under_video

    picture = make_clip(
        folder / f"picture-{clip.filename}", start_s=clip.start_s, seconds=SECONDS, size=SIZE
    )
    song = drum_song(clip.bpm, seconds=SECONDS, offset_s=clip.beat_s, seed=int(clip.bpm))
    out = folder / clip.filename
    return mux_under_video(song.samples, out, seconds=SECONDS, video=picture).read_bytes()


def spread_lessons(service: Any, lesson_ids: list[str], comparison_ids: list[str]) -> None:
    """DEMO DATA: the lessons' dates moved to five Tuesdays at 17:30, the last one this
    week's. Nothing in the app changes a clip's date (it is when the clip came in), so
    the rows are edited here; each comparison moves with its lesson."""
    from dance_analysis.jobs.records import JobRecord

    today = dt.datetime.now(dt.timezone.utc)
    tuesday = (today - dt.timedelta(days=(today.weekday() - 1) % 7)).replace(
        hour=17, minute=30, second=0, microsecond=0
    )
    dates = [tuesday - dt.timedelta(weeks=len(lesson_ids) - 1 - i) for i in range(len(lesson_ids))]

    def move(session: Any) -> None:
        for lesson_id, comparison_id, date in zip(lesson_ids, comparison_ids, dates, strict=True):
            session.get(JobRecord, lesson_id).created_at = date
            session.get(JobRecord, comparison_id).created_at = date + dt.timedelta(minutes=20)

    service.database.write(move)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--library-out", type=Path, default=REPO / "docs/images/library-students.png"
    )
    parser.add_argument("--student-out", type=Path, default=REPO / "docs/images/student-page.png")
    parser.add_argument("--mock", action="store_true", help="the mock pose backend (fast)")
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from dance_analysis.config import Settings
    from dance_analysis.jobs.students import Whose
    from gui.main_window import MainWindow
    from main import DesktopBackend

    _application = QApplication.instance() or QApplication(sys.argv[:1])  # alive till the end

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        media = folder / "media"
        media.mkdir()
        settings = Settings(
            _env_file=None,
            data_dir=folder / "data",
            use_mock_analysis=args.mock,
            api_host="127.0.0.1",
            api_port=0,
        )
        backend = DesktopBackend(settings)
        service = backend.service
        window: Any = None
        try:

            def submit(clip: Clip, whose: Whose) -> str:
                return str(service.submit(clip.filename, [make_media(clip, media)], whose=whose).id)

            def finish(job_ids: list[str]) -> None:
                wait_until(
                    lambda: all(service.get(i).status in ENDED for i in job_ids), timeout_s=600
                )
                failed = [service.get(i) for i in job_ids if service.get(i).status != "finished"]
                if failed:
                    raise SystemExit(f"not analysed: {failed}")

            teacher = submit(TEACHER, Whose())
            lessons = [submit(clip, Whose(*MAYA)) for clip in LESSONS]
            leo = [submit(clip, Whose(*LEO)) for clip in LEO_CLIPS]
            finish([teacher, *lessons, *leo])
            comparisons = [str(service.compare(lesson, teacher).id) for lesson in lessons]
            finish(comparisons)
            spread_lessons(service, lessons, comparisons)

            window = MainWindow(settings, service, backend.access, api_url=backend.api_url)
            window.resize(1440, 900)
            window.show()
            window.studio.setSizes([520, 920])  # the library's five buttons whole
            library = window.library
            wait_until(lambda: len(library.views) == 1 + len(lessons) + len(leo))
            wait_until(lambda: all(library.item_for(i).text(2) for i in library.views))
            library.select_job(lessons[-1])  # her newest lesson in the studio
            wait_until(lambda: window.player.result is not None)
            grab(window, args.library_out)
            print(f"saved {args.library_out}")

            # Narrower for her page: at 1440 px the date axis ticks every day.
            window.resize(1280, 800)
            window.show_student(MAYA[0])
            view = window.student_view
            wait_until(lambda: len(view.lessons) == len(lessons))
            view.choose_angle("left_knee", "range")
            grab(window, args.student_out)
            print(f"saved {args.student_out}")
            for lesson in view.lessons:
                print(
                    f"{lesson.created_at:%d %b}: score {lesson.overall_score}, "
                    f"timing {lesson.timing_offset_ms} ms, tempo {lesson.tempo_bpm}, "
                    f"left knee range {lesson.angles.get('left_knee', {}).get('range')}"
                )
        finally:
            if window is not None:
                window.close()
                window.shutdown()
            backend.stop(5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
