"""How long does ``probe`` take next to decoding the same clip?

    .venv/bin/python benchmarks/probe_speed.py [--seconds 60] [--repeat 3]

Makes a clip of moving test pictures (every frame different, no duplicates) with
ffmpeg, then times, in one run on the same machine: (a) **decode**, every picture of
it decoded with PyAV (the baseline), and (b) **probe**, our validation pass. Prints
the medians and their ratio. The test suite checks the property behind the figure
(probe decodes one picture); this script keeps the figure itself.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def make_clip(folder: Path, seconds: int) -> Path:
    import imageio_ffmpeg

    clip = folder / f"testsrc-{seconds}s.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-t", str(seconds),
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip),
        ],
        check=True,
    )  # fmt: skip
    return clip


def decode_all(clip: Path) -> int:
    import av

    with av.open(str(clip)) as container:
        return sum(1 for _ in container.decode(video=0))


def timed(work: Callable[[Path], object], clip: Path) -> float:
    started = time.perf_counter()
    work(clip)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from dance_analysis.video import probe

    with tempfile.TemporaryDirectory() as folder:
        clip = make_clip(Path(folder), args.seconds)
        decode_s, probe_s = [], []
        for _ in range(args.repeat):  # interleaved, so load changes hit both alike
            decode_s.append(timed(decode_all, clip))
            probe_s.append(timed(probe, clip))
    decode, probed = statistics.median(decode_s), statistics.median(probe_s)
    print(f"clip: {args.seconds} s, 1280x720, 30 fps, every frame different")
    print(f"decode every picture (baseline): {decode:.3f} s")
    print(f"probe:                           {probed:.3f} s")
    print(f"probe / decode:                  {probed / decode:.3f}")


if __name__ == "__main__":
    main()
