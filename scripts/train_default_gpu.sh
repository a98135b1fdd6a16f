#!/usr/bin/env bash
# Train the default model on a GPU machine inside its short window, and bring back a released
# ONNX model (with the benchmark guard of scripts/release_default.py) and its logs.
#
#   scripts/train_default_gpu.sh                 # on the GPU machine, from the repo root
#   MINUTES=0.3 DEVICE=cpu WORKERS=2 BATCH=16 VAL=64 CAL=64 COUNT=20 scripts/train_default_gpu.sh  # dry run
#
# Settings (environment):
#   MINUTES  training wall time to plan for (default 7; rendering probe and release add ~2)
#   WORKERS  render processes (default: all cores but two); DEVICE cuda (default) or cpu
#   BATCH    images per step (default 256); LR peak learning rate (default 0.002)
#   CONFIG   the experiment (default configs/experiments/default_v3.yaml: CRNN + self-attention,
#            own renderers only)
#   INIT     starting weights (default "none": from scratch; "default" continues the shipped
#            model, grown to CONFIG's model_args when they add blocks)
#   OUT      where results go (default $OUT if set, else runs/gpu_default); WHEELS a folder of
#            wheels to install captchalab's dependencies from when they are missing (no network)
#   VAL, CAL, COUNT  validation images, calibration images, images per benchmark set
#   RELEASE_ARGS  more scripts/release_default.py flags, e.g. '--exclude-generator "python captcha"'
#            when the shipped model trained on a generator the new one may not use
#
# Training renders fresh `broad` samples on the fly in WORKERS processes (no cache), so the
# GPU never waits for a fixed set; the step budget comes from the render rate measured first.
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=${MINUTES:-7}
CORES=$(nproc)
WORKERS=${WORKERS:-$((CORES > 3 ? CORES - 2 : 1))}
DEVICE=${DEVICE:-cuda}
BATCH=${BATCH:-256}
LR=${LR:-0.002}
INIT=${INIT:-none}
OUT=${OUT:-runs/gpu_default}
VAL=${VAL:-2000}
CAL=${CAL:-2000}
COUNT=${COUNT:-300}
CONFIG=${CONFIG:-configs/experiments/default_v3.yaml}
RUN="$OUT/run"
mkdir -p "$OUT"
LOG="$OUT/train_default_gpu.log"
exec > >(tee -a "$LOG") 2>&1
echo "== $(date -u +%FT%TZ) train_default_gpu: $MINUTES min, $WORKERS render workers, $DEVICE, batch $BATCH"

if ! python -c "import captchalab.training, captcha" 2>/dev/null; then
  if [ -n "${WHEELS:-}" ]; then
    pip install --no-index --find-links "$WHEELS" --no-build-isolation -e ".[train]"
  else
    pip install --no-deps -e . && python -c "import captchalab.training, captcha"
  fi
fi

# 1. How fast can the workers render? (the trainer cannot use more samples than this)
RATE=$(python scripts/render_rate.py broad --workers "$WORKERS" --per-worker "${PER_WORKER:-300}")
STEPS=$(python -c "print(max(20, int($RATE * $MINUTES * 60 * 0.85 / $BATCH)))")
echo "render rate: $RATE images/s on $WORKERS workers -> $STEPS steps of $BATCH"

# 2. Train (resumable: a second call continues from $RUN/last)
INIT_FLAG=()
[ "$INIT" != "none" ] && INIT_FLAG=(--init "$INIT")
captchalab train --config "$CONFIG" -o "$RUN" "${INIT_FLAG[@]}" --resume \
  --max-steps "$STEPS" --batch-size "$BATCH" --lr "$LR" --cache-size 0 --workers "$WORKERS" \
  --device "$DEVICE" --val-size "$VAL" --eval-every $((STEPS / 8 > 0 ? STEPS / 8 : 1)) \
  --checkpoint-every $((STEPS / 16 > 0 ? STEPS / 16 : 1))

# 3. Release into $OUT/assets, only if it beats the shipped model on the benchmark
mkdir -p "$OUT/assets"
eval "EXTRA=(${RELEASE_ARGS:-})"  # shell words, so quoted names with spaces stay one argument
cp -r src/captchalab/assets/default.onnx src/captchalab/assets/default "$OUT/assets/"
set +e
python scripts/release_default.py "$RUN" --assets "$OUT/assets" --calibration-images "$CAL" \
  --count "$COUNT" "${EXTRA[@]}" | tee "$OUT/release.txt"
STATUS=${PIPESTATUS[0]}
set -e
rm -rf "$RUN/cache"
echo "== $(date -u +%FT%TZ) done: release exit $STATUS; results in $OUT (assets/, release.txt, run/)"
exit 0
