#!/usr/bin/env bash
# Train every seed row of docs/results/seeds.md on a GPU machine inside one short window, then
# export each best checkpoint to ONNX and score it through the Solver on 2,000 test images.
#
#   scripts/train_seeds_gpu.sh                                   # on the GPU machine
#   MINUTES=0.2 DEVICE=cpu WORKERS=2 BATCH=16 VAL=64 COUNT=20 ROWS="digits5_multihead" \
#       scripts/train_seeds_gpu.sh                               # dry run on a CPU
#
# Settings (environment):
#   ROWS     which rows, by config name after "seed_" (default: all six)
#   MINUTES  training wall time per row (default 1.3; export and scoring add ~15 s per row).
#            The case study of seed_hku_crnn (issue 12, item 3) is three rows of its own:
#            ROWS="hku_crnn hku_crnn_h32 hku_crnn_context"
#   WORKERS  render processes (default: all cores but two); DEVICE cuda (default) or cpu
#   BATCH    images per step (default 256; the learning rate is the row's, scaled by BATCH/64)
#   OUT      where results go (default $OUT if set, else runs/gpu_seeds); WHEELS a folder of
#            wheels to install captchalab's dependencies from when they are missing (no network)
#   VAL, COUNT  validation images per row, test images per row (the table uses 2,000)
#
# Each row renders fresh samples on the fly in WORKERS processes (no cache), so the GPU never
# waits on a fixed set; its step budget comes from that scheme's render rate, measured first.
# Every run is resumable: calling the script again continues each row from its last checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-"digits5_multihead alnum5_multihead hku4_multihead hku_crnn alnum4_crnn words_attention"}
MINUTES=${MINUTES:-1.3}
CORES=$(nproc)
WORKERS=${WORKERS:-$((CORES > 3 ? CORES - 2 : 1))}
DEVICE=${DEVICE:-cuda}
BATCH=${BATCH:-256}
OUT=${OUT:-runs/gpu_seeds}
VAL=${VAL:-1000}
COUNT=${COUNT:-2000}
mkdir -p "$OUT"
LOG="$OUT/train_seeds_gpu.log"
exec > >(tee -a "$LOG") 2>&1
echo "== $(date -u +%FT%TZ) train_seeds_gpu: rows [$ROWS], $MINUTES min each, $WORKERS workers, $DEVICE, batch $BATCH"

if ! python -c "import captchalab.training, captcha" 2>/dev/null; then
  if [ -n "${WHEELS:-}" ]; then
    pip install --no-index --find-links "$WHEELS" --no-build-isolation -e ".[train]"
  else
    pip install --no-deps -e . && python -c "import captchalab.training, captcha"
  fi
fi

for ROW in $ROWS; do
  CONFIG="configs/experiments/seed_$ROW.yaml"
  [ -f "$CONFIG" ] || { echo "no config $CONFIG" >&2; exit 2; }
  read -r SCHEME LR < <(python -c "
from captchalab.training.config import load_config
c = load_config('$CONFIG'); print(c.scheme, c.lr * $BATCH / 64)")
  RUN="$OUT/seed_$ROW"
  RATE=$(python scripts/render_rate.py "$SCHEME" --workers "$WORKERS" --per-worker "${PER_WORKER:-200}")
  STEPS=$(python -c "print(max(20, int($RATE * $MINUTES * 60 * 0.85 / $BATCH)))")
  echo "== $(date -u +%FT%TZ) $ROW: $SCHEME renders $RATE images/s -> $STEPS steps of $BATCH at lr $LR"
  STARTED=$(date +%s)
  captchalab train --config "$CONFIG" -o "$RUN" --resume \
    --max-steps "$STEPS" --batch-size "$BATCH" --lr "$LR" --cache-size 0 --workers "$WORKERS" \
    --device "$DEVICE" --val-size "$VAL" \
    --eval-every $((STEPS / 4 > 0 ? STEPS / 4 : 1)) --checkpoint-every $((STEPS / 8 > 0 ? STEPS / 8 : 1))
  echo "$ROW trained in $(( $(date +%s) - STARTED )) s wall, $STEPS steps x $BATCH = $((STEPS * BATCH)) samples"
  captchalab export "$RUN/best" -o "$RUN/model.onnx"
  python benchmarks/seed_results.py "$RUN/model.onnx" --scheme "$SCHEME" --count "$COUNT" \
    --out "$OUT/results/seed_$ROW"
  rm -rf "$RUN/cache" "$RUN/last" "$RUN/last.tmp"
done
echo "== $(date -u +%FT%TZ) done; reports in $OUT/results, logs in $LOG"
