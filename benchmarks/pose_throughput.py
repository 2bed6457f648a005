"""How many crops a second does the BlazePose landmark network take, on torch and LiteRT?

    .venv/bin/python benchmarks/pose_throughput.py [--device auto|cpu|cuda|rocm|mps]
        [--batches 1,8,64,256] [--seconds 2] [--threads N]

Measures, in one run on the same machine:

(a) the **baseline**: LiteRT (XNNPACK) on the CPU, 1 and 2 threads, batch 1 (it runs a
    batch image by image, so frames/s do not depend on the batch);
(b) **torch** on ``--device`` (``auto``: the best one torch sees), fp32 at every batch
    size, and fp16 where the device has it (GPUs). On a GPU the crops are already on the
    device (``landmarks_tensor``, the batched path) and the clock waits for the device;
    on the CPU the numpy path (``landmarks``), as the graph calls it;
(c) **batch 1 on the CPU**, torch against LiteRT 1 thread, for the landmark network
    and the detector: which one a machine without a GPU should run.

With ``--check``, first prints how far torch on ``--device`` (fp32, and fp16 where the
device has it) is from LiteRT on real frames of the shared clip: the device check that
the CPU-only test suite cannot do.

Prints frames/s and the ratio to LiteRT 1 thread. Then :func:`end_to_end`: a whole clip
in, every person out, against decoding alone and MediaPipe's solution.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dance_analysis.pose.blazepose.litert_net import LitertNetworks  # noqa: E402
from dance_analysis.pose.blazepose.networks import (  # noqa: E402
    DETECTOR_SIZE,
    LANDMARK_SIZE,
    FloatArray,
    PoseNetworks,
)

if TYPE_CHECKING:
    from dance_analysis.pose.blazepose.torch_net import TorchNetworks


def rate(run: Callable[[], Any], frames_per_call: int, seconds: float) -> float:
    """Frames per second of ``run``, after one warm-up call, over at least ``seconds``."""
    run()
    calls, start = 0, time.perf_counter()
    while True:
        run()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls * frames_per_call / elapsed


def median_ms(run: Callable[[], Any], seconds: float) -> float:
    run()
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 5:
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1000


def best_device() -> str:
    from dance_analysis.pose.devices import detect_device

    kind = detect_device().kind
    return kind if kind in ("cuda", "rocm", "mps") else "cpu"


def torch_rates(
    device: str, batches: list[int], seconds: float, rng: np.random.Generator
) -> dict[tuple[str, int], float]:
    from dance_analysis.pose.blazepose.torch_net import TorchNetworks

    precisions = ["fp32", "fp16"] if device != "cpu" else ["fp32"]
    rates: dict[tuple[str, int], float] = {}
    for precision in precisions:
        nets = TorchNetworks(device, half=precision == "fp16")
        for batch in batches:
            crops = rng.random((batch, LANDMARK_SIZE, LANDMARK_SIZE, 3), dtype=np.float32)
            rates[precision, batch] = rate(landmark_call(nets, crops), batch, seconds)
    return rates


def landmark_call(nets: TorchNetworks, crops: FloatArray) -> Callable[[], object]:
    """One batch through the landmark network: numpy on the CPU, device tensors on a GPU
    (waiting for the device, or the clock would stop before the work)."""
    import torch

    if nets.device == "cpu":
        return lambda: nets.landmarks(crops)
    on_device = torch.from_numpy(crops).to(nets.torch_device)
    wait = torch.mps.synchronize if nets.device == "mps" else torch.cuda.synchronize

    def run() -> None:
        nets.landmarks_tensor(on_device)
        wait()

    return run


def cpu_batch1(seconds: float, rng: np.random.Generator, threads: int) -> None:
    import torch

    from dance_analysis.pose.blazepose.torch_net import TorchNetworks

    torch.set_num_threads(threads)
    nets = TorchNetworks("cpu")
    litert = LitertNetworks(num_threads=threads)
    crop = rng.random((1, LANDMARK_SIZE, LANDMARK_SIZE, 3), dtype=np.float32)
    image = rng.random((1, DETECTOR_SIZE, DETECTOR_SIZE, 3), dtype=np.float32) * 2 - 1
    print(f"\nbatch 1 on the CPU, {threads} thread(s), median ms per call:")
    for name, ours, theirs in (
        ("landmark", lambda: nets.landmarks(crop), lambda: litert.landmarks(crop)),
        ("detector", lambda: nets.detect(image), lambda: litert.detect(image)),
    ):
        torch_ms, litert_ms = median_ms(ours, seconds), median_ms(theirs, seconds)
        print(
            f"  {name:9} torch {torch_ms:6.1f}  litert {litert_ms:6.1f}"
            f"  torch/litert time {torch_ms / litert_ms:4.2f}"
        )


def real_inputs(clip: Path, count: int = 8) -> tuple[FloatArray, FloatArray]:
    """Centred squares of ``count`` frames at 256 px in [0, 1], whole frames letterboxed
    to 224 px in [-1, 1]."""
    import cv2

    from dance_analysis.video import probe, read_frames

    crops: list[np.ndarray] = []
    boxed: list[np.ndarray] = []
    for frame in read_frames(probe(clip)):
        if frame.index % 8 or len(crops) == count:
            continue
        image = frame.image
        height, width, _ = image.shape
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        square = image[top : top + side, left : left + side]
        crops.append(
            cv2.resize(square, (LANDMARK_SIZE, LANDMARK_SIZE), interpolation=cv2.INTER_AREA)
        )
        side = max(height, width)
        canvas = np.zeros((side, side, 3), np.uint8)
        top, left = (side - height) // 2, (side - width) // 2
        canvas[top : top + height, left : left + width] = image
        boxed.append(
            cv2.resize(canvas, (DETECTOR_SIZE, DETECTOR_SIZE), interpolation=cv2.INTER_AREA)
        )
    return (
        np.stack(crops).astype(np.float32) / 255.0,
        np.stack(boxed).astype(np.float32) / 127.5 - 1.0,
    )


def check(device: str, clip: Path) -> None:
    """Largest differences from LiteRT, per output, for each precision on ``device``."""
    from dance_analysis.pose.blazepose.torch_net import TorchNetworks

    crops, boxed = real_inputs(clip)
    litert = LitertNetworks()
    reference = litert.landmarks(crops)
    reference_boxes = litert.detect(boxed)
    n = len(crops)
    print(f"torch on {device} against LiteRT, {n} frames, largest absolute difference:")
    for half in [False, True] if device != "cpu" else [False]:
        nets = TorchNetworks(device, half=half)
        ours, boxes = nets.landmarks(crops), nets.detect(boxed)
        joints, expected = ours.landmarks.reshape(n, 39, 5), reference.landmarks.reshape(n, 39, 5)
        figures = {
            "x,y px": np.abs(joints[..., :2] - expected[..., :2]).max(),
            "z": np.abs(joints[..., 2] - expected[..., 2]).max(),
            "vis logit": np.abs(joints[..., 3:] - expected[..., 3:]).max(),
            "flag": np.abs(ours.flag - reference.flag).max(),
            "heatmap": np.abs(ours.heatmap - reference.heatmap).max(),
            "world m": np.abs(ours.world - reference.world).max(),
            "boxes px": np.abs(boxes.boxes - reference_boxes.boxes).max(),
            "scores": np.abs(boxes.scores - reference_boxes.scores).max(),
        }
        line = "  ".join(f"{k} {v:.2g}" for k, v in figures.items())
        print(f"  {'fp16' if half else 'fp32'}: {line}")


def end_to_end(device: str, seconds_of_clip: int, segments: list[int]) -> None:
    """Frames/s of the whole graph, clip in and people out, against decoding alone.

    The clip is ``pipeline_speed.make_long_clip``'s: the shared squats at 30 fps, 720 px on
    the short side, no two frames alike. Baselines in the same run: decoding alone (what
    end to end can at best reach when the networks are free) and MediaPipe's solution in
    a bare loop (the CPU figure to beat). Ours: the clip cut into each of ``segments``
    segments, tracked in lock-step (:mod:`dance_analysis.clip_poses`), on LiteRT (CPU)
    and on torch on ``device``.
    """
    import os

    os.environ.setdefault("GLOG_minloglevel", "2")
    from benchmarks.pipeline_speed import SHARED, make_long_clip
    from dance_analysis.clip_poses import ClipJob, track_clip
    from dance_analysis.pose.blazepose.torch_net import TorchNetworks
    from dance_analysis.video.probe import probe
    from dance_analysis.video.reader import read_frames

    info = probe(make_long_clip(SHARED / "pose_squats.mp4", seconds=seconds_of_clip))
    frames = info.frame_count

    def timed(run: Callable[[], object]) -> float:
        start = time.perf_counter()
        run()
        return frames / (time.perf_counter() - start)

    decode = timed(lambda: sum(1 for _ in read_frames(info)))

    def bare_mediapipe() -> None:
        import mediapipe as mp

        with mp.solutions.pose.Pose(model_complexity=1) as pose:
            for frame in read_frames(info):
                pose.process(frame.image)

    bare = timed(bare_mediapipe)
    print(f"\nend to end, {info.path.name} ({frames} frames, {info.width}x{info.height}):")
    print(f"  decode only                       {decode:7.1f} frames/s  (1.00x decode)")
    print(
        f"  mediapipe solution, bare loop     {bare:7.1f} frames/s  ({bare / decode:4.2f}x decode)"
    )
    runtimes: list[tuple[str, PoseNetworks]] = [("litert cpu 1 thread", LitertNetworks(1))]
    runtimes.append((f"torch {device}", TorchNetworks(device)))
    if device not in ("cpu", "mps"):
        runtimes.append((f"torch {device} fp16", TorchNetworks(device, half=True)))
    for name, networks in runtimes:
        for count in segments:
            job = ClipJob(info, segments=count, min_segment_frames=30)
            got: dict[str, int] = {}

            def run(
                job: ClipJob = job, networks: PoseNetworks = networks, got: dict[str, int] = got
            ) -> None:
                got["segments"] = track_clip(job, networks).segments

            fps = timed(run)
            print(f"  {name:22} {got['segments']:3} segment(s) {fps:7.1f} frames/s  "
                  f"({fps / decode:4.2f}x decode, {fps / bare:4.2f}x mediapipe)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "rocm", "mps"])
    parser.add_argument("--batches", default="1,8,64,256")
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's)")
    parser.add_argument("--check", action="store_true", help="first compare with LiteRT")
    parser.add_argument("--clip-seconds", type=int, default=10, help="end to end clip length")
    parser.add_argument("--segments", default="1,2,8", help="end to end segment counts")
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    rng = np.random.default_rng(0)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device = best_device() if args.device == "auto" else args.device
    print(f"torch {torch.__version__} on {device}; CPU threads {torch.get_num_threads()}")
    clip = REPO.parent / "shared" / "data" / "pose_squats.mp4"
    if args.check:
        check(device, clip)

    crop = rng.random((1, LANDMARK_SIZE, LANDMARK_SIZE, 3), dtype=np.float32)
    baseline = {}
    for threads in (1, 2):
        litert = LitertNetworks(num_threads=threads)
        baseline[threads] = rate(partial(litert.landmarks, crop), 1, args.seconds)
    reference = baseline[1]
    print("\nlandmark network, frames/s (ratio to LiteRT 1 thread):")
    for threads, fps in baseline.items():
        print(f"  litert cpu {threads} thread(s)  batch   1  {fps:8.1f}  ({fps / reference:5.2f}x)")
    for (precision, batch), fps in torch_rates(device, batches, args.seconds, rng).items():
        print(f"  torch {device:4} {precision}        batch {batch:3}  {fps:8.1f}"
              f"  ({fps / reference:5.2f}x)")  # fmt: skip

    for threads in (1, 2):
        cpu_batch1(args.seconds, rng, threads)
    end_to_end(device, args.clip_seconds, [int(n) for n in args.segments.split(",")])


if __name__ == "__main__":
    main()
