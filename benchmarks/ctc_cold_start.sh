#!/usr/bin/env bash
# CTC cold start: does a from-scratch CTC model leave the all-blank plateau sooner with another
# learning rate, a constant schedule, or no recurrence (cnnctc)? The budget is the quick
# audit's largest curve point: digits5, 4,000 cached captchas, 1,200 steps of 32.
#
#   nice -n 10 bash benchmarks/ctc_cold_start.sh [WORK_DIR]    # about 11 min on 2 idle cores
#
# Prints validation exact accuracy and CER (300 captchas) every 300 steps per variant.
set -euo pipefail
WORK=${1:-$(mktemp -d)}
mkdir -p "$WORK"
cat > "$WORK/base.yaml" <<'YAML'
model: crnn
scheme: digits5
model_args: {channels: [16, 32, 64, 96], hidden: 128}
height: 32
width: 128
resize: pad
batch_size: 32
max_steps: 1200
lr: 0.002
schedule: onecycle
cache_size: 4000
val_size: 300
eval_every: 300
checkpoint_every: 600
threads: 2
YAML
sed 's/^lr: 0.002/lr: 0.005/' "$WORK/base.yaml" > "$WORK/lr5.yaml"
sed 's/^schedule: onecycle/schedule: constant/; s/^lr: 0.002/lr: 0.001/' "$WORK/base.yaml" > "$WORK/const1.yaml"
sed 's/^model: crnn/model: cnnctc/' "$WORK/base.yaml" > "$WORK/cnnctc.yaml"
for variant in base lr5 const1 cnnctc; do
  started=$(date +%s)
  captchalab train --config "$WORK/$variant.yaml" -o "$WORK/run_$variant" > "$WORK/$variant.log" 2>&1
  echo "$variant ($(( $(date +%s) - started )) s):"
  python - "$WORK/run_$variant/metrics.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    row = json.loads(line)
    print(f"  step {row['step']}: exact {row['exact_accuracy']:.1%}, CER {row['character_error_rate']:.3f}")
PY
done
