#!/usr/bin/env bash
# The studio's commands, per profile (the seed's manage.sh verbs). docs/deployment.md.
#
#   ./manage.sh start  [PROFILE] [--scale N]   build and start; wait until healthy
#   ./manage.sh stop   [PROFILE]               stop (workers finish or hand back jobs)
#   ./manage.sh logs   [PROFILE] [SERVICE]     follow the logs
#   ./manage.sh status [PROFILE]               containers, their health, the API's /health
#   ./manage.sh shell  [PROFILE] [SERVICE]     a shell in a container (default: api)
#   ./manage.sh token  [PROFILE] NAME          a device token for a studio script
#   ./manage.sh test-upload [PROFILE] CLIP     send a clip through upload-url, PUT,
#                                              confirm, status and result, with curl
#   ./manage.sh clean  [PROFILE] [--yes]       remove the containers AND their data
#
# PROFILE: cpu (default), nvidia, amd, mac; add ",tunnel" for the Cloudflare tunnel
# (e.g. cpu,tunnel). On a Mac, `start mac` runs the services and the API in Docker and
# prints the one command that runs the worker natively.
#
# Environment: COMPOSE (the compose command, default `docker compose`, else
# `docker-compose`), API_URL (default http://127.0.0.1:$API_PORT).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

PROFILES="cpu nvidia amd mac"

die() { echo "manage.sh: $*" >&2; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
  exit "${1:-0}"
}

# The compose command as an array; COMPOSE may carry options (-f, -p, --env-file).
compose_cmd() {
  if [[ -n "${COMPOSE:-}" ]]; then
    read -r -a COMPOSE_ARGS <<<"$COMPOSE"
  elif docker compose version >/dev/null 2>&1; then
    COMPOSE_ARGS=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE_ARGS=(docker-compose)
  else
    die "Docker Compose v2 is not installed (docker compose version)"
  fi
}

# "cpu,tunnel" -> --profile cpu --profile tunnel, checked.
profile_args() {
  local spec=$1 name
  PROFILE_ARGS=()
  IFS=, read -r -a names <<<"$spec"
  for name in "${names[@]}"; do
    case " $PROFILES tunnel " in
      *" $name "*) PROFILE_ARGS+=(--profile "$name") ;;
      *) die "unknown profile '$name' (one of: $PROFILES; add ,tunnel for the tunnel)" ;;
    esac
  done
}

compose() { "${COMPOSE_ARGS[@]}" "${PROFILE_ARGS[@]}" "$@"; }

env_value() {  # NAME DEFAULT: from the environment, else .env, else DEFAULT
  local name=$1 default=$2 value=""
  value=${!name:-}
  if [[ -z "$value" && -f .env ]]; then
    value=$(sed -n "s/^$name=//p" .env | tail -n 1)
  fi
  echo "${value:-$default}"
}

api_url() {
  if [[ -n "${API_URL:-}" ]]; then echo "${API_URL%/}"; return; fi
  echo "http://127.0.0.1:$(env_value API_PORT 8000)"
}

random_secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

lan_address() {
  local address=""
  if command -v ipconfig >/dev/null 2>&1 && [[ "$(uname)" == Darwin ]]; then
    address=$(ipconfig getifaddr en0 2>/dev/null || true)
  elif command -v hostname >/dev/null 2>&1; then
    address=$(hostname -I 2>/dev/null | awk '{print $1}' || true)
  fi
  echo "${address:-127.0.0.1}"
}

# A first start without .env: copy .env.example with random secrets and this machine's
# address, so the stack starts with nothing to edit on a studio's LAN.
ensure_env() {
  [[ -f .env ]] && return
  local address
  address=$(lan_address)
  sed -e "s/^DANCE_SECRET_KEY=.*/DANCE_SECRET_KEY=$(random_secret)/" \
      -e "s/^POSTGRES_PASSWORD=.*/POSTGRES_PASSWORD=$(random_secret)/" \
      -e "s/^MINIO_ROOT_PASSWORD=.*/MINIO_ROOT_PASSWORD=$(random_secret)/" \
      -e "s#^DANCE_PUBLIC_BASE_URL=.*#DANCE_PUBLIC_BASE_URL=http://$address:8000#" \
      -e "s#^DANCE_S3_PUBLIC_ENDPOINT_URL=.*#DANCE_S3_PUBLIC_ENDPOINT_URL=http://$address:9000#" \
      .env.example >.env
  chmod 600 .env
  echo "manage.sh: wrote .env (random secrets; this machine is $address on the network)"
}

json_field() {  # FIELD: read JSON on stdin, print .FIELD (dots for nesting)
  if command -v jq >/dev/null 2>&1; then
    jq -r ".$1 // empty"
  else
    python3 -c 'import json, sys
value = json.load(sys.stdin)
for part in sys.argv[1].split("."):
    value = value.get(part) if isinstance(value, dict) else None
print("" if value is None else value)' "$1"
  fi
}

mac_worker_help() {
  cat <<EOF

The worker runs natively on the Mac (Docker on macOS has no GPU, and mediapipe has
no Linux arm64 wheel). In this folder, with the same .env:

  set -a; . ./.env; set +a
  DATABASE_URL="postgresql+psycopg://\${POSTGRES_USER:-dance}:\$POSTGRES_PASSWORD@127.0.0.1:\${POSTGRES_PORT:-5432}/\${POSTGRES_DB:-dance}" \\
  REDIS_URL="redis://127.0.0.1:\${REDIS_PORT:-6379}/0" \\
  DANCE_S3_ENDPOINT_URL="http://127.0.0.1:\${MINIO_PORT:-9000}" DANCE_S3_BUCKET=dance-analysis \\
  DANCE_S3_ACCESS_KEY="\$MINIO_ROOT_USER" DANCE_S3_SECRET_KEY="\$MINIO_ROOT_PASSWORD" \\
  python3 bootstrap.py run worker
EOF
}

test_upload() {
  local clip=$1 api token auth answer job_id upload_url s3_key status="" name
  [[ -f "$clip" ]] || die "no such clip: $clip"
  command -v curl >/dev/null 2>&1 || die "curl is needed"
  api=$(api_url)
  name=$(basename "$clip")
  echo "API: $api"
  token=$(compose exec -T api dance-analysis token create "manage-test-upload" | tr -d '\r')
  [[ -n "$token" ]] || die "could not create a token in the api container"
  auth="Authorization: Bearer $token"

  echo "1. upload URL"
  answer=$(curl -fsS -X POST -H "$auth" \
    "$api/api/v1/analyze/upload-url?filename=$name&content_type=video/mp4")
  job_id=$(json_field job_id <<<"$answer")
  upload_url=$(json_field upload_url <<<"$answer")
  s3_key=$(json_field s3_key <<<"$answer")
  [[ -n "$job_id" && -n "$upload_url" ]] || die "no upload URL in: $answer"
  echo "   job $job_id -> $s3_key"

  echo "2. PUT $(wc -c <"$clip" | tr -d ' ') bytes"
  curl -fsS -X PUT -H "Content-Type: video/mp4" --data-binary "@$clip" "$upload_url" >/dev/null

  echo "3. confirm"
  answer=$(curl -fsS -X POST -H "$auth" "$api/api/v1/analyze/confirm?job_id=$job_id&s3_key=$s3_key")
  echo "   $(json_field status <<<"$answer")"

  echo "4. status"
  for _ in $(seq 1 "${TEST_UPLOAD_POLLS:-600}"); do
    answer=$(curl -fsS -H "$auth" "$api/api/v1/analyze/$job_id/status")
    status=$(json_field status <<<"$answer")
    case "$status" in finished|failed|canceled) break ;; esac
    sleep 1
  done
  echo "   $status ($(json_field stage <<<"$answer"))"
  [[ "$status" == finished ]] || die "the job ended $status: $answer"

  echo "5. result"
  answer=$(curl -fsS -H "$auth" "$api/api/v1/analyze/$job_id/result")
  echo "   $(json_field num_frames <<<"$answer") frames"
  local overlay
  overlay=$(json_field downloads.overlay <<<"$answer")
  [[ -n "$overlay" ]] || die "the result has no overlay link: $answer"
  curl -fsS -o /dev/null -w "   overlay: %{size_download} bytes\n" "$overlay"
  echo "test-upload: OK (job $job_id)"
}

main() {
  local verb=${1:-help}
  shift || true
  case "$verb" in help|-h|--help) usage 0 ;; esac

  local profile=cpu
  if [[ $# -gt 0 && "$1" != -* ]]; then
    case " $PROFILES tunnel " in *" ${1%%,*} "*) profile=$1; shift ;; esac
  fi
  compose_cmd
  profile_args "$profile"

  case "$verb" in
    start)
      local scale=()
      if [[ "${1:-}" == --scale ]]; then
        [[ "${2:-}" =~ ^[0-9]+$ ]] || die "--scale needs a number of workers"
        [[ "${profile%%,*}" != mac ]] || die "the mac profile has no worker containers to scale"
        scale=(--scale "worker-${profile%%,*}=$2")
        shift 2
      fi
      [[ $# -eq 0 ]] || die "unknown argument '$1' (profiles: $PROFILES; then --scale N)"
      ensure_env
      compose up -d --build --wait "${scale[@]}"
      compose ps
      echo "API: $(api_url)   MinIO console: http://127.0.0.1:$(env_value MINIO_CONSOLE_PORT 9001)"
      if [[ "${profile%%,*}" == mac ]]; then mac_worker_help; fi
      ;;
    stop) compose stop ;;
    logs) compose logs --follow --tail 200 "$@" ;;
    status)
      compose ps
      echo
      curl -sS "$(api_url)/health" || echo "the API does not answer at $(api_url)"
      echo
      ;;
    shell) compose exec "${1:-api}" /bin/sh -c 'command -v bash >/dev/null && exec bash || exec sh' ;;
    token)
      [[ -n "${1:-}" ]] || die "usage: ./manage.sh token [PROFILE] NAME"
      compose exec -T api dance-analysis token create "$1"
      ;;
    test-upload)
      [[ -n "${1:-}" ]] || die "usage: ./manage.sh test-upload [PROFILE] CLIP.mp4"
      test_upload "$1"
      ;;
    clean)
      if [[ "${1:-}" != --yes ]]; then
        local answer=""
        read -r -p "Remove the containers and ALL their data (jobs, clips, results)? [y/N] " \
          answer || true
        [[ "$answer" == [yY]* ]] || die "nothing removed"
      fi
      compose down --volumes --remove-orphans
      ;;
    *) echo "manage.sh: unknown command '$verb'" >&2; usage 2 ;;
  esac
}

main "$@"
