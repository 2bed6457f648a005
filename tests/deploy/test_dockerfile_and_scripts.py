"""The Dockerfiles pass hadolint and suit Debian's engine; the shell scripts pass
shellcheck; manage.sh does what its verbs say (its compose command replaced by `echo`)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from dance_analysis.config import Settings
from tests.deploy.tools import REPO, run, tool

DOCKERFILES = (REPO / "Dockerfile", REPO / "deploy" / "smoke" / "Dockerfile")
SCRIPTS = (REPO / "manage.sh", REPO / "scripts" / "docker_smoke.sh",
           REPO / "deploy" / "smoke" / "postgres.sh")  # fmt: skip


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(REPO)))
def test_hadolint_is_clean(dockerfile: Path) -> None:
    answer = run(tool("hadolint"), "--no-color", dockerfile)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert answer.stdout == ""


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(REPO)))
def test_nothing_debians_engine_rejects(dockerfile: Path) -> None:
    """Debian's docker.io 20.10 builder: no syntax directive, heredocs or COPY --link."""
    text = dockerfile.read_text(encoding="utf-8")
    assert not re.search(r"^#\s*syntax\s*=", text, re.IGNORECASE | re.MULTILINE)
    instructions = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    assert "--link" not in instructions
    assert not re.search(r"^(RUN|COPY|ADD)\b.*<<", text, re.MULTILINE)


def test_the_image_family() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "ARG BASE=debian:bookworm-slim" in text
    assert "ARG DEVICE=cpu" in text
    stages = re.findall(r"^FROM (\S+) AS (\w+)", text, re.MULTILINE)
    assert stages == [("${BASE}", "python"), ("python", "requirements"), ("python", "builder"),
                      ("python", "project"), ("${BASE}", "runtime")]  # fmt: skip
    # the runtime gets the dependencies' venv, then the project's wheel on top
    runtime = text[text.index("AS runtime") :]
    assert runtime.index("COPY --from=builder /opt/venv /opt/venv") < runtime.index(
        "COPY --from=project /wheels"
    )
    for device, wheels in (("cpu", '"cpu"'), ("cuda", '"${TORCH_CUDA}"'),
                           ("rocm", '"${TORCH_ROCM}"')):  # fmt: skip
        assert f"{device}) wheels={wheels}" in text.replace("  ", " ").replace(")  ", ") ")
    assert "download.pytorch.org/whl/${wheels}" in text
    assert 'pip install --no-deps "mediapipe==${MEDIAPIPE_VERSION}"' in text
    assert "ARG MEDIAPIPE_VERSION=0.10.21" in text
    assert re.search(r"^USER 10001", text, re.MULTILINE)  # not root
    assert "STOPSIGNAL SIGINT" in text
    assert re.search(r"^HEALTHCHECK .*\n.*/health", text, re.MULTILINE)


def test_the_image_installs_what_bootstrap_installs() -> None:
    """The same mediapipe and torch versions as bootstrap.py, so both test the same."""
    bootstrap = (REPO / "bootstrap.py").read_text(encoding="utf-8")
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    mediapipe = re.search(r'MEDIAPIPE = "mediapipe==([^"]+)"', bootstrap)
    torch = re.search(r'TORCH = "torch==([^"]+)"', bootstrap)
    assert mediapipe and torch
    assert f"ARG MEDIAPIPE_VERSION={mediapipe.group(1)}" in text
    assert f"ARG TORCH_VERSION={torch.group(1)}" in text


def test_the_build_context_leaves_the_rest_out() -> None:
    ignore = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignore[ignore.index("*") :][:1] == ["*"]  # everything out, then what is needed
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "main.py", "dance_analysis", "api",
                       "deploy/server_requirements.py"}  # fmt: skip


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(REPO)))
def test_shellcheck_is_clean(script: Path) -> None:
    answer = run(tool("shellcheck"), script)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert os.access(script, os.X_OK)


@pytest.fixture
def studio(tmp_path: Path) -> Path:
    """A copy of what a studio has: manage.sh, .env.example, no .env yet."""
    for name in ("manage.sh", ".env.example"):
        shutil.copy2(REPO / name, tmp_path / name)
    return tmp_path


def manage(studio: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "COMPOSE": "echo compose"}
    answer = run(studio / "manage.sh", *args, cwd=studio, env=env)
    return answer.returncode, answer.stdout + answer.stderr


def test_start_makes_an_env_the_server_accepts_and_waits_for_health(studio: Path) -> None:
    code, out = manage(studio, "start", "cpu", "--scale", "3")
    assert code == 0, out
    assert "compose --profile cpu up -d --build --wait --scale worker-cpu=3" in out
    env = dict(
        line.split("=", 1)
        for line in (studio / ".env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert oct((studio / ".env").stat().st_mode)[-3:] == "600"
    for name in ("DANCE_SECRET_KEY", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"):
        assert len(env[name]) == 48 and env[name] != "changeme"
    settings = Settings(
        secret_key=env["DANCE_SECRET_KEY"], s3_bucket="b", s3_access_key=env["MINIO_ROOT_USER"],
        s3_secret_key=env["MINIO_ROOT_PASSWORD"],
    )  # fmt: skip
    assert settings.secret_key == env["DANCE_SECRET_KEY"]
    assert env["DANCE_PUBLIC_BASE_URL"].endswith(":8000")
    first = (studio / ".env").read_text()
    manage(studio, "start", "cpu")
    assert (studio / ".env").read_text() == first  # an existing .env is kept


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("start", "nvidia"), "compose --profile nvidia up -d --build --wait"),
        (("start", "amd,tunnel"), "compose --profile amd --profile tunnel up -d --build --wait"),
        (("logs", "cpu", "api"), "compose --profile cpu logs --follow --tail 200 api"),
        (("status", "amd"), "compose --profile amd ps"),
        (("stop",), "compose --profile cpu stop"),
        (("clean", "cpu", "--yes"), "compose --profile cpu down --volumes --remove-orphans"),
        (("token", "cpu", "studio-sync"),
         "compose --profile cpu exec -T api dance-analysis token create studio-sync"),
    ],
)  # fmt: skip
def test_verbs_per_profile(studio: Path, args: tuple[str, ...], expected: str) -> None:
    code, out = manage(studio, *args)
    assert expected in out, out
    if args[0] != "status":  # status also asks the API, which is not running here
        assert code == 0, out


def test_mac_start_prints_the_native_worker_command(studio: Path) -> None:
    code, out = manage(studio, "start", "mac")
    assert code == 0, out
    assert "compose --profile mac up -d --build --wait" in out
    assert "python3 bootstrap.py run worker" in out
    assert "REDIS_URL=" in out and "DANCE_S3_ENDPOINT_URL=" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("start", "gpu"), "unknown argument 'gpu'"),
        (("start", "cpu,gpu"), "unknown profile 'gpu'"),
        (("start", "mac", "--scale", "2"), "no worker containers"),
        (("fly",), "unknown command 'fly'"),
        (("test-upload", "cpu"), "usage: ./manage.sh test-upload"),
        (("test-upload", "cpu", "/no/such.mp4"), "no such clip"),
        (("clean", "cpu"), "nothing removed"),
    ],
)
def test_mistakes_are_refused(studio: Path, args: tuple[str, ...], message: str) -> None:
    code, out = manage(studio, *args)
    assert code != 0
    assert message in out, out
