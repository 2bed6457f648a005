"""Upload load: 20 concurrent 50 MB uploads while an analysis runs (RELIABILITY figures).

    python benchmarks/upload_load.py [--uploads 20] [--mb 50] [--mock]

Starts ``python main.py serve`` on loopback with a temporary data folder, creates a
token, starts one analysis of the squats clip (the real model unless ``--mock``),
then PUTs N generated bodies of M MB each to signed upload URLs at once. The bytes
are generated as they are sent (one reused 1 MiB block), never held in memory. While
the uploads run, /health and the job's status are polled every 50 ms from a process
of their own, as a phone would poll: polled from the loop that is pushing a gigabyte
(or a thread beside it, under the same interpreter lock), the figures were partly
that loop's own delay (``--same-loop`` measures that way, for comparison). A poll
that gets no answer (a dropped kept-alive connection) is counted, not ignored.
Prints the errors, the server's resident memory growth (VmRSS from /proc) and
p50/p99 latencies.
Only the analysis is confirmed; the uploads stay unconfirmed and vanish with the
temporary folder. Bounded: gives up after ``--timeout`` seconds and always stops the
server.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
CLIP = (
    Path(os.environ.get("DANCE_SHARED_DATA", REPO.parent / "shared" / "data")) / "pose_squats.mp4"
)
BLOCK = 1 << 20


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_server(data_dir: Path, mock: bool) -> tuple[subprocess.Popen[str], str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANCE_")}
    env.update(
        DANCE_DATA_DIR=str(data_dir),
        DANCE_USE_MOCK_ANALYSIS="true" if mock else "false",
        DANCE_ALLOWED_HOSTS='["127.0.0.1"]',
        PYTHONUNBUFFERED="1",
    )
    token = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "token", "create", "benchmark"],
        env=env, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, str(REPO / "main.py"), "serve", "--host", "127.0.0.1", "--port", "0"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert server.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if match := re.search(r"listening on (http://\S+)", line):
            return server, match.group(1), token
        if not line and server.poll() is not None:
            break
    server.kill()
    raise SystemExit("the server did not start")


async def generated(size: int) -> AsyncIterator[bytes]:
    block = bytes(range(256)) * (BLOCK // 256)
    sent = 0
    while sent < size:
        chunk = block[: min(BLOCK, size - sent)]
        sent += len(chunk)
        yield chunk


async def one_upload(client: httpx.AsyncClient, index: int, size: int) -> float:
    ticket = await client.post(
        "/api/v1/analyze/upload-url",
        params={"filename": f"load{index}.mp4", "content_type": "video/mp4", "size": size},
    )
    ticket.raise_for_status()
    started = time.perf_counter()
    put = await client.put(
        ticket.json()["upload_url"],
        content=generated(size),
        headers={"Content-Type": "video/mp4", "Content-Length": str(size)},
    )
    put.raise_for_status()
    return time.perf_counter() - started


async def poll(
    client: httpx.AsyncClient,
    path: str,
    into: list[float],
    stop: Any,  # an asyncio.Event, or a multiprocessing one in the probe process
    failures: list[str],
) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            response = await client.get(path)
        except httpx.HTTPError as error:  # e.g. "Server disconnected without a response"
            failures.append(f"{path}: {error!r}")
        else:
            into.append((time.perf_counter() - started) * 1000)
            if response.status_code >= 500:
                failures.append(f"{path}: {response.status_code}")
        await asyncio.sleep(0.05)


def _probe_process_main(
    url: str, headers: dict[str, str], paths: list[str], stop: Any, answers: Any
) -> None:
    """In the probe process: poll ``paths`` until ``stop``, then send back what it saw."""
    measured: list[list[float]] = [[] for _ in paths]
    failures: list[str] = []

    async def main() -> None:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300) as client:
            polls = zip(paths, measured, strict=True)
            await asyncio.gather(*(poll(client, path, got, stop, failures) for path, got in polls))

    asyncio.run(main())
    answers.put((measured, failures))


class ProbeProcess:
    """/health and status polled from a process of their own, as a phone would be.

    Polled from a thread of this process, the probes would share its interpreter lock
    with the 20 uploads it pushes, and measure part of that wait as the server's.
    """

    def __init__(self, url: str, headers: dict[str, str], paths: list[str]) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._answers = context.Queue()
        self._process = context.Process(
            target=_probe_process_main,
            args=(url, headers, paths, self._stop, self._answers),
            name="probes",
        )
        self._process.start()

    def stop(self) -> tuple[list[list[float]], list[str]]:
        self._stop.set()
        measured, failures = self._answers.get(timeout=120)
        self._process.join(60)
        return measured, failures


async def watch_rss(pid: int, into: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        into.append(rss_mb(pid))
        await asyncio.sleep(0.1)


async def run(url: str, token: str, pid: int, uploads: int, size: int, same_loop: bool) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=uploads + 10)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=300, limits=limits
    ) as client:
        baseline = rss_mb(pid)
        job = await client.post(
            "/api/v1/analyze", files={"file": ("squats.mp4", CLIP.read_bytes(), "video/mp4")}
        )
        job.raise_for_status()
        job_id = job.json()["job_id"]

        stop = asyncio.Event()
        health_ms: list[float] = []
        status_ms: list[float] = []
        failures: list[str] = []
        rss: list[float] = []
        paths = ["/health", f"/api/v1/analyze/{job_id}/status"]
        watchers = [asyncio.create_task(watch_rss(pid, rss, stop))]
        probes = None
        if same_loop:
            polls = zip(paths, (health_ms, status_ms), strict=True)
            watchers += [asyncio.create_task(poll(client, path, into, stop, failures))
                         for path, into in polls]  # fmt: skip
        else:
            probes = ProbeProcess(url, headers, paths)
        started = time.perf_counter()
        results = await asyncio.gather(
            *(one_upload(client, i, size) for i in range(uploads)), return_exceptions=True
        )
        elapsed = time.perf_counter() - started
        status = (await client.get(f"/api/v1/analyze/{job_id}/status")).json()
        stop.set()
        if probes is not None:
            (health_ms, status_ms), failures = probes.stop()
        await asyncio.gather(*watchers, return_exceptions=True)

    errors = [r for r in results if isinstance(r, BaseException)]
    durations = [r for r in results if isinstance(r, float)]
    total_mb = size * len(durations) / (1 << 20)
    print(f"uploads: {len(durations)}/{uploads} ok, {len(errors)} errors, "
          f"{total_mb:.0f} MB in {elapsed:.1f} s ({total_mb / elapsed:.0f} MB/s)")  # fmt: skip
    for error in errors[:5]:
        print(f"  error: {error!r}")
    if durations:
        print(f"upload time: p50 {statistics.median(durations):.1f} s, max {max(durations):.1f} s")
    print(
        f"analysis during the load: {status['status']} ({status['stage']}, {status['progress']}%)"
    )
    print(f"server RSS: {baseline:.0f} MB before, peak {max(rss):.0f} MB, "
          f"growth {max(rss) - baseline:.0f} MB")  # fmt: skip
    print(f"/health latency: p50 {percentile(health_ms, 0.5):.0f} ms, "
          f"p99 {percentile(health_ms, 0.99):.0f} ms ({len(health_ms)} requests)")  # fmt: skip
    print(f"status latency:  p50 {percentile(status_ms, 0.5):.0f} ms, "
          f"p99 {percentile(status_ms, 0.99):.0f} ms ({len(status_ms)} requests)")  # fmt: skip
    print(f"polls without an answer or with a 5xx: {len(failures)}"
          f" (probes {'on the uploads loop' if same_loop else 'in a process of their own'})")
    for failure in failures[:5]:
        print(f"  {failure}")
    return 1 if errors or failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--mock", action="store_true", help="mock poses for the analysis")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--same-loop", action="store_true", help="poll from the uploads' event loop (as before)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dance-load-") as folder:
        server, url, token = start_server(Path(folder) / "data", args.mock)
        try:
            return asyncio.run(
                asyncio.wait_for(
                    run(url, token, server.pid, args.uploads, args.mb << 20, args.same_loop),
                    args.timeout,
                )
            )
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(60)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
