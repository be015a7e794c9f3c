#!/usr/bin/env bash
# The main job on a CPU: write the chest phantoms (if absent), pre-train the tiny UniMedI
# on them, then evaluate on the phantom test split: image <-> report retrieval and
# zero-shot classification, for the pre-trained model and for a random initialisation.
#   bash tools/demo.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
CONFIG=configs/unimedi/vit_tiny_pretrain_phantom.py
WORK_DIR=${1:-work_dirs/vit_tiny_pretrain_phantom}
DATA=data/phantoms
if [ ! -f "$DATA/manifest.jsonl" ]; then
  "$PY" tools/data/make_phantoms.py --out "$DATA" --num-3d 200 --num-2d 600 --seed 0
fi
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
"$PY" tools/test.py "$CONFIG" "$CHECKPOINT" --work-dir "$WORK_DIR/test_pretrained"
"$PY" tools/test.py "$CONFIG" --random-init --work-dir "$WORK_DIR/test_random_init"
"$PY" tools/analysis/summarize_pretrain_log.py "$WORK_DIR"
"$PY" tools/analysis/compare_metrics.py \
  "pre-trained=$WORK_DIR/test_pretrained/metrics.json" \
  "random init=$WORK_DIR/test_random_init/metrics.json"
