# Dance Analysis: one image family for a studio's API and workers (docs/deployment.md).
#
#   docker build -t dance-analysis:cpu  .                          # CPU (the default)
#   docker build -t dance-analysis:cuda --build-arg DEVICE=cuda .  # NVIDIA
#   docker build -t dance-analysis:rocm --build-arg DEVICE=rocm .  # AMD
#
# Written for Debian's own engine too (20.10, the classic builder): no syntax directive,
# no heredocs, no COPY --link. The image runs as an unprivileged user; its data folder
# is /data. `serve` is the default command; docker-compose.yml runs `serve --no-worker`
# for the API and `worker` for each worker container.

# The base is an argument so machines that cannot pull build from a local one
# (scripts/docker_smoke.sh passes an image made with debootstrap).
ARG BASE=debian:bookworm-slim

# Python and an empty venv, shared by the stages below.
FROM ${BASE} AS python
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian's packages are not pinned (DL3008): a point release replaces them, and a pin
# would stop the build instead of bringing the security fixes.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/venv

# The server's requirements, from pyproject.toml (without the desktop's Qt). A stage
# of its own: the builder copies only the list, so the layer that installs it stays
# cached when pyproject.toml changes elsewhere (test tools, metadata).
FROM python AS requirements
COPY pyproject.toml deploy/server_requirements.py /src/
RUN python3 /src/server_requirements.py /src/pyproject.toml > /src/requirements.txt

FROM python AS builder

ARG DEVICE=cpu
# torch only answers "which accelerator is here?" (dance_analysis/pose/devices.py); the
# version matches bootstrap.py. The wheel sets for CUDA and ROCm follow torch's
# "previous versions" table: change TORCH_CUDA / TORCH_ROCM when a release moves on.
ARG TORCH_VERSION=2.13.0
ARG TORCH_CUDA=cu128
ARG TORCH_ROCM=rocm6.4
# A full override of the torch index (a mirror, or PyPI with PIP_FIND_LINKS).
ARG TORCH_INDEX_URL=
ARG MEDIAPIPE_VERSION=0.10.21
# Extra wheel locations for machines without the internet's indexes (an http:// URL).
ARG PIP_FIND_LINKS=

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_FIND_LINKS=${PIP_FIND_LINKS} \
    PATH=/opt/venv/bin:${PATH}

# torch per device: the CPU wheels for cpu, the CUDA or ROCm wheels for the others.
RUN case "${DEVICE}" in \
      cpu)  wheels="cpu" ;; \
      cuda) wheels="${TORCH_CUDA}" ;; \
      rocm) wheels="${TORCH_ROCM}" ;; \
      *) echo "DEVICE must be cpu, cuda or rocm, not '${DEVICE}'" >&2; exit 2 ;; \
    esac \
 && index="${TORCH_INDEX_URL:-https://download.pytorch.org/whl/${wheels}}" \
 && pip install --index-url "${index}" "torch==${TORCH_VERSION}"

# mediapipe as bootstrap.py installs it: 0.10.21 (the last wheel that carries the
# BlazePose models) with --no-deps (its metadata pulls the GUI OpenCV and jax; the
# project's dependencies list what it really imports). It has no Linux arm64 wheel:
# there (Docker on an Apple-silicon Mac) the image serves the API only and the worker
# runs natively on macOS (the `mac` profile).
RUN if [ "$(uname -m)" = "x86_64" ]; then \
      pip install --no-deps "mediapipe==${MEDIAPIPE_VERSION}"; \
    else \
      echo "no mediapipe wheel for Linux $(uname -m): this image can serve the API, not analyse"; \
    fi

COPY --from=requirements /src/requirements.txt /src/requirements.txt
RUN pip install -r /src/requirements.txt

# The project itself as a wheel, in a stage of its own: a code change rebuilds this
# and one small layer of the runtime, not the 1.6 GB of dependencies.
FROM python AS project
ARG PIP_FIND_LINKS=
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_FIND_LINKS=${PIP_FIND_LINKS}
COPY . /src/
RUN /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels /src


FROM ${BASE} AS runtime

ARG DEVICE=cpu
# The pose backend the image runs (DANCE_POSE_BACKEND): the GPU images are built with
# POSE_BACKEND=torch (docker-compose.yml), our own BlazePose graph on torch on the GPU it
# detects, batched; the cpu image keeps auto (the fastest runtime measured on the CPU).
# result.json's model.backend and model.device say what ran.
ARG POSE_BACKEND=auto
LABEL org.opencontainers.image.title="dance-analysis" \
      org.opencontainers.image.description="Dance Analysis API and worker (${DEVICE})"

# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --create-home --home-dir /home/dance \
      --shell /usr/sbin/nologin dance \
 && mkdir -p /data \
 && chown dance:dance /data

COPY --from=builder /opt/venv /opt/venv
COPY --from=project /wheels /tmp/wheels
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps --no-index /tmp/wheels/*.whl \
 && rm -rf /tmp/wheels

ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    DANCE_DATA_DIR=/data \
    DANCE_POSE_BACKEND=${POSE_BACKEND} \
    DANCE_API_HOST=0.0.0.0 \
    DANCE_API_PORT=8000

USER 10001:10001
WORKDIR /home/dance
EXPOSE 8000

# SIGINT is what `serve` and `worker` treat as "finish or hand back the running job".
STOPSIGNAL SIGINT

# The API's check: /health answers 200 only when the database, queue and storage
# answer. Workers replace it (docker-compose.yml: `worker --check`).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('DANCE_API_PORT', '8000') + '/health', timeout=8)"]

ENTRYPOINT ["dance-analysis"]
CMD ["serve"]
