"""Video in and out: probe (facts and validation), reader (frames with real
timestamps), writer (H.264 MP4 with the source's audio)."""

from dance_analysis.video.probe import VideoInfo, VideoLimits, probe
from dance_analysis.video.reader import Frame, read_frames
from dance_analysis.video.writer import VideoWriter, finalize_mp4

__all__ = [
    "Frame",
    "VideoInfo",
    "VideoLimits",
    "VideoWriter",
    "finalize_mp4",
    "probe",
    "read_frames",
]
