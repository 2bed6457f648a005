"""The original backend's per-file routes: ``/videos/{job_id}/{kind}`` → ``{url}``.

Each answers a signed, short-lived link to one of a finished job's files, the same
link ``/result``'s ``downloads`` hold. ``scores`` is result.json (metrics, angle
summaries and, for a comparison, its scores); ``feedback`` is analysis.json (the
client-format feedback items).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.deps import ServiceDep, SettingsDep
from api.errors import ApiError
from api.routes.analyze import finished_job
from api.routes.jobs import DOWNLOAD_LINK_EXPIRY_S, artifact_link
from api.schemas import ArtifactLinkPublic, ErrorPublic
from dance_analysis.artifacts import ARTIFACT_NAMES
from dance_analysis.names import TextEnum

router = APIRouter(prefix="/videos", tags=["analyze"])


class VideoFile(TextEnum):
    """The original backend's file kinds."""

    VISUALIZATION = "visualization"
    KEYPOINTS2D = "keypoints2d"
    KEYPOINTS3D = "keypoints3d"
    SCORES = "scores"
    FEEDBACK = "feedback"


# kind → our artifact name (dance_analysis.artifacts.ARTIFACT_NAMES)
VIDEO_ARTIFACTS: dict[VideoFile, str] = {
    VideoFile.VISUALIZATION: "overlay",
    VideoFile.KEYPOINTS2D: "keypoints_2d",
    VideoFile.KEYPOINTS3D: "keypoints_3d",
    VideoFile.SCORES: "result",
    VideoFile.FEEDBACK: "analysis",
}


@router.get(
    "/{job_id}/{kind}",
    response_model=ArtifactLinkPublic,
    responses={
        404: {"model": ErrorPublic, "description": "No such job, or the job has no such file"},
        409: {"model": ErrorPublic, "description": "The job has not finished"},
        422: {"model": ErrorPublic, "description": "The job failed (its reason)"},
    },
    summary="A signed link to one of a finished job's files (the original backend's route)",
)
def get_video_file(
    job_id: str, kind: VideoFile, request: Request, service: ServiceDep, settings: SettingsDep
) -> ArtifactLinkPublic:
    """visualization: overlay.mp4; keypoints2d / keypoints3d: keypoints_2d.json /
    keypoints_3d.json; scores: result.json; feedback: analysis.json."""
    view = finished_job(service, job_id)
    name = VIDEO_ARTIFACTS[kind]
    if name not in view.artifacts:
        if view.is_comparison:
            why = (
                f"A comparison job has no {kind} file: ask for it on the student's job "
                f"({view.student_job_id})."
            )
        elif name == "overlay":
            why = "This job has no visualization: it was analysed with the overlay video off."
        else:
            why = (
                f"This job has no {kind} file ({ARTIFACT_NAMES[name]}): it was analysed "
                "before that file was made. Upload the clip again to get it."
            )
        raise ApiError(404, "object_missing", why, extra={"kind": kind.value})
    url = artifact_link(request, settings, service, view.id, name)
    return ArtifactLinkPublic(url=url, expires_in=DOWNLOAD_LINK_EXPIRY_S)
