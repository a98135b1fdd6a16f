#!/usr/bin/env bash
# Build the service image from deploy/Dockerfile and run it for real, without any registry:
#   1. a base image from Debian packages (debootstrap bookworm: Python 3.11), cached;
#   2. the service image, built with buildah (BASE = that image);
#   3. a container run with podman: read-only root, tmpfs /tmp, dropped capabilities, non-root;
#      checks /healthz, /readyz, a real solve, and that the root filesystem refuses writes;
#   4. stop and remove it. Prints image size and start-to-ready time.
# Needs root, buildah, podman and debootstrap (Debian: apt-get install buildah podman debootstrap).
# Environment: SMOKE_DIR (work folder, default /var/tmp/captchalab-smoke), DEBIAN_MIRROR,
# SMOKE_REBUILD_BASE=1 (rebuild the cached base), SMOKE_PORT (default: a free port).
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE_DIR=${SMOKE_DIR:-/var/tmp/captchalab-smoke}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE_IMAGE=localhost/captchalab-base:bookworm
IMAGE=localhost/captchalab:smoke
NAME=captchalab-smoke-$$
MAX_READY_S=${SMOKE_MAX_READY_S:-5}
MAX_IMAGE_MB=${SMOKE_MAX_IMAGE_MB:-400}

for tool in buildah podman debootstrap curl python3; do
  command -v "$tool" >/dev/null || { echo "container_smoke: $tool is missing" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "container_smoke: run as root (debootstrap, rootful podman)" >&2; exit 2; }

# Private container storage (vfs works inside sandboxes without overlay support).
mkdir -p "$SMOKE_DIR"
export CONTAINERS_STORAGE_CONF="$SMOKE_DIR/storage.conf"
cat >"$CONTAINERS_STORAGE_CONF" <<CONF
[storage]
driver = "vfs"
graphroot = "$SMOKE_DIR/storage"
runroot = "$SMOKE_DIR/run"
CONF
# runc copes with hybrid cgroup hierarchies where crun refuses; cgroupfs needs no systemd.
PODMAN=(podman --cgroup-manager cgroupfs --events-backend file)
if command -v runc >/dev/null; then PODMAN+=(--runtime "$(command -v runc)"); fi
# Explicit limits: sandboxes may refuse the runtime's defaults (setrlimit: not permitted).
LIMITS=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
T0=$(now)

# --- 1. base image from Debian packages ---------------------------------------------------------
if [ "${SMOKE_REBUILD_BASE:-0}" = 1 ] || ! "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
  echo "== base: debootstrap bookworm from $DEBIAN_MIRROR"
  ROOTFS="$SMOKE_DIR/rootfs"
  rm -rf "$ROOTFS"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$ROOTFS" "$DEBIAN_MIRROR" >"$SMOKE_DIR/debootstrap.log" 2>&1 \
    || { tail -20 "$SMOKE_DIR/debootstrap.log" >&2; exit 1; }
  # Local certificate authorities (e.g. a proxy's) go into the base, so pip inside builds works.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
    chroot "$ROOTFS" update-ca-certificates >/dev/null
  fi
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$ROOTFS/etc/pip.conf"
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/usr/share/doc/* \
    "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/*
  tar -C "$ROOTFS" -c . | "${PODMAN[@]}" import --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" \
    >"$SMOKE_DIR/import.log" 2>&1 || { cat "$SMOKE_DIR/import.log" >&2; exit 1; }
  rm -rf "$ROOTFS"
  echo "base image built in $(elapsed "$T0" "$(now)") s"
else
  echo "== base: $BASE_IMAGE cached (SMOKE_REBUILD_BASE=1 rebuilds it)"
fi

# --- 2. service image with buildah ---------------------------------------------------------------
echo "== build: deploy/Dockerfile --target service"
T1=$(now)
buildah bud --isolation chroot --network host --format docker --layers=false \
  -f deploy/Dockerfile --target service --build-arg "BASE=$BASE_IMAGE" -t "$IMAGE" . \
  >"$SMOKE_DIR/build.log" 2>&1 || { tail -30 "$SMOKE_DIR/build.log" >&2; exit 1; }
echo "service image built in $(elapsed "$T1" "$(now)") s"
"${PODMAN[@]}" image prune -f >/dev/null 2>&1 || true  # earlier smoke images (full vfs copies)
SIZE=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
SIZE_MB=$((SIZE / 1000000))
echo "image size: $SIZE_MB MB (target <= $MAX_IMAGE_MB MB)"
if "${PODMAN[@]}" run --rm --network none "${LIMITS[@]}" --entrypoint python3 "$IMAGE" -c "import torch" 2>/dev/null; then
  echo "FAIL: torch is importable in the service image" >&2; exit 1
fi
echo "torch in image: no"

# --- 3. run it: read-only root, tmpfs /tmp, no capabilities -------------------------------------
PORT=${SMOKE_PORT:-$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}
cleanup() { "${PODMAN[@]}" rm -f -t 2 "$NAME" >/dev/null 2>&1 || true; }
trap cleanup EXIT
RUN_ARGS=(--name "$NAME" -d --read-only --tmpfs /tmp:rw,size=64m --cap-drop ALL
  --security-opt no-new-privileges -e "CAPTCHALAB_PORT=$PORT" "${LIMITS[@]}")
echo "== run: podman run --read-only --tmpfs /tmp --cap-drop ALL (port $PORT)"
T2=$(now)
# Host networking: sandboxes without bridge/netavark support still run it the same way.
# (Without systemd, podman logs that it cannot schedule the HEALTHCHECK timer; the check itself
# is run below with `podman healthcheck run`.)
"${PODMAN[@]}" run "${RUN_ARGS[@]}" --network host "$IMAGE" >"$SMOKE_DIR/run.log" 2>&1 \
  || { cat "$SMOKE_DIR/run.log" >&2; exit 1; }
URL="http://127.0.0.1:$PORT"
READY=""
for _ in $(seq 1 600); do
  if curl -fsS "$URL/readyz" >/dev/null 2>&1; then READY=$(now); break; fi
  if [ "$("${PODMAN[@]}" inspect --format '{{.State.Running}}' "$NAME")" != true ]; then break; fi
  sleep 0.05
done
if [ -z "$READY" ]; then
  echo "FAIL: the container never became ready; its log:" >&2
  "${PODMAN[@]}" logs "$NAME" >&2 || true
  exit 1
fi
# Start to ready: from the container's process start to the first 200 from /readyz. The time
# `podman run` itself takes before that (vfs copies the whole image per container) is shown too.
STARTED=$("${PODMAN[@]}" inspect --format '{{.State.StartedAt.UnixNano}}' "$NAME")
STARTED=$(python3 -c "import sys; print(int(sys.argv[1]) / 1e9)" "$STARTED")
READY_S=$(elapsed "$STARTED" "$READY")
echo "start to ready: $READY_S s (target <= $MAX_READY_S s); podman run to ready: $(elapsed "$T2" "$READY") s"

fail() { echo "FAIL: $*" >&2; "${PODMAN[@]}" logs "$NAME" 2>&1 | tail -20 >&2; exit 1; }
echo "GET /healthz -> $(curl -fsS "$URL/healthz")" || fail "/healthz"
echo "GET /readyz -> $(curl -fsS "$URL/readyz")" || fail "/readyz"
[ "$("${PODMAN[@]}" inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$NAME")" = true ] \
  || fail "root filesystem is not read-only"
if "${PODMAN[@]}" exec "$NAME" python3 -c "open('/opt/captchalab/probe', 'w')" 2>/dev/null; then
  fail "the root filesystem accepted a write"
fi
echo "root filesystem: read-only (write refused); user: $("${PODMAN[@]}" exec "$NAME" id -u)"
"${PODMAN[@]}" healthcheck run "$NAME" 2>/dev/null || fail "the image's HEALTHCHECK failed"
echo "HEALTHCHECK (podman healthcheck run): healthy"

# A real solve: a digits5 captcha rendered on this machine by the project's own generator.
SAMPLE="$SMOKE_DIR/sample"
rm -rf "$SAMPLE"
PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" python3 -m captchalab.cli generate \
  --scheme digits5 -n 4 -o "$SAMPLE" --seed 7 --workers 1 >/dev/null 2>&1 || fail "generate"
correct=0
while IFS=, read -r file label; do
  [ "$file" = filename ] && continue
  answer=$(curl -fsS -F "image=@$SAMPLE/$file" "$URL/v1/solve") || fail "POST /v1/solve"
  text=$(python3 -c "import json, sys; print(json.loads(sys.argv[1])['text'])" "$answer")
  echo "POST /v1/solve $file (label $label) -> $answer"
  [ "$text" = "$label" ] && correct=$((correct + 1))
done <"$SAMPLE/labels.csv"
echo "solved $correct/4 correctly"
[ "$correct" -ge 1 ] || fail "no captcha solved correctly"
HEALTH=$(curl -fsS "$URL/metrics" | grep -c '^captchalab_' || true)
echo "GET /metrics -> $HEALTH captchalab_* samples"

# --- 4. stop ------------------------------------------------------------------------------------
T3=$(now)
"${PODMAN[@]}" stop -t 10 "$NAME" >/dev/null
echo "stopped in $(elapsed "$T3" "$(now)") s (exit code $("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$NAME"))"
echo "== smoke passed: image $SIZE_MB MB, ready in $READY_S s, total $(elapsed "$T0" "$(now)") s"
[ "$SIZE_MB" -le "$MAX_IMAGE_MB" ] || { echo "FAIL: image over $MAX_IMAGE_MB MB" >&2; exit 1; }
python3 -c "import sys; sys.exit(float(sys.argv[1]) > float(sys.argv[2]))" "$READY_S" "$MAX_READY_S" \
  || { echo "FAIL: ready later than $MAX_READY_S s" >&2; exit 1; }
