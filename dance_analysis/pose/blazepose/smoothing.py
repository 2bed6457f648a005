"""Temporal smoothing of one person's landmarks, as MediaPipe's pose solution does it
with ``smooth_landmarks=True`` (``pose_landmark_filtering``).

Each coordinate goes through a one-euro filter: a low-pass whose cut-off rises with
the speed, so a still joint is steady and a fast one is not late. Image landmarks are
filtered in pixels with speeds relative to the person's size; world landmarks in
metres. Visibilities go through a plain low-pass. A person lost resets everything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

DEFAULT_FREQUENCY = 30.0  # assumed until two timestamps give the real one
VISIBILITY_ALPHA = 0.1
MIN_OBJECT_SCALE = 1e-6


class LowPass:
    """Exponential smoothing; the first value passes through."""

    def __init__(self) -> None:
        self.raw: F64 | None = None
        self.value: F64 | None = None

    def apply(self, value: F64, alpha: F64 | float) -> F64:
        result = value if self.value is None else alpha * value + (1.0 - alpha) * self.value
        self.raw, self.value = value, result
        return result


@dataclass(frozen=True)
class OneEuroParams:
    min_cutoff: float
    beta: float
    derivative_cutoff: float = 1.0
    scale_values: bool = True  # speeds relative to the object's size


LANDMARKS = OneEuroParams(min_cutoff=0.05, beta=80.0)
# The two points that place the next region: heavier smoothing keeps the crop steady.
AUXILIARY = OneEuroParams(min_cutoff=0.01, beta=10.0)
WORLD = OneEuroParams(min_cutoff=0.1, beta=40.0, scale_values=False)


def _alpha(cutoff: F64 | float, frequency: float) -> F64 | float:
    te = 1.0 / frequency
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / te)


class OneEuro:
    """One-euro filter over an array of values sharing one clock."""

    def __init__(self, params: OneEuroParams) -> None:
        self.params = params
        self.frequency = DEFAULT_FREQUENCY
        self.last_us = 0
        self.x = LowPass()
        self.dx = LowPass()

    def apply(self, t_us: int, value: F64, object_scale: float = 1.0) -> F64:
        p = self.params
        if self.last_us >= t_us:
            return value  # time did not advance: nothing sensible to do
        if self.last_us != 0 and t_us != 0:
            self.frequency = 1e6 / (t_us - self.last_us)
        self.last_us = t_us
        scale = 1.0 / object_scale if p.scale_values else 1.0
        speed = (
            (value - self.x.raw) * scale * self.frequency
            if self.x.raw is not None
            else np.zeros_like(value)
        )
        smooth_speed = self.dx.apply(speed, _alpha(p.derivative_cutoff, self.frequency))
        cutoff = p.min_cutoff + p.beta * np.abs(smooth_speed)
        return self.x.apply(value, _alpha(cutoff, self.frequency))


class PoseSmoother:
    """The smoothing of one person through a clip; ``reset`` when they are lost."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._landmarks = OneEuro(LANDMARKS)
        self._auxiliary = OneEuro(AUXILIARY)
        self._world = OneEuro(WORLD)
        self._visibility = LowPass()

    def apply(
        self,
        t_us: int,
        landmarks: F64,
        auxiliary: F64,
        world: F64,
        object_scale: float,
        width: int,
        height: int,
    ) -> tuple[F64, F64, F64]:
        """``landmarks`` (33, 4) and ``auxiliary`` (2, 2+) normalised, ``world`` (33, 3+);
        ``object_scale`` the person's size in pixels. Returns the smoothed landmarks
        (33, 4), auxiliary points (2, 2) and world landmarks (33, 4)."""
        to_px = np.array([width, height, width], dtype=np.float64)
        visibility = self._visibility.apply(landmarks[:, 3].copy(), VISIBILITY_ALPHA)
        if object_scale < MIN_OBJECT_SCALE:
            xyz = landmarks[:, :3]
            aux = auxiliary[:, :2]
        else:
            xyz = self._landmarks.apply(t_us, landmarks[:, :3] * to_px, object_scale) / to_px
            aux = (self._auxiliary.apply(t_us, auxiliary[:, :3] * to_px, object_scale) / to_px)[
                :, :2
            ]
        world_xyz = self._world.apply(t_us, world[:, :3].copy())
        return (
            np.column_stack([xyz, visibility]),
            aux,
            np.column_stack([world_xyz, visibility]),
        )
