"""A job worker in a process of its own, for the crash tests.

python -m tests.jobs.worker_proc SETTINGS_JSON work
    start a consumer, print "ready", run until SIGTERM, then stop it (grace 5 s)
python -m tests.jobs.worker_proc SETTINGS_JSON crash-before-enqueue CLIP
    record a job for CLIP and die (exit 137) at the moment it would be enqueued
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

from dance_analysis.config import Settings
from dance_analysis.jobs.service import JobService


def main() -> None:
    settings = Settings(_env_file=None, **json.loads(sys.argv[1]))
    service = JobService(settings)
    if sys.argv[2] == "crash-before-enqueue":
        service.queue.enqueue = lambda job_id: os._exit(137)  # type: ignore[method-assign]
        service.submit("crash.mp4", [Path(sys.argv[3]).read_bytes()])
        raise SystemExit("the job was enqueued after all")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    consumer = service.start_consumer()
    print("ready", flush=True)
    stop.wait()
    consumer.stop(grace_s=5.0)
    service.close()


if __name__ == "__main__":
    main()
