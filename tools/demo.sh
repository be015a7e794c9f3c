#!/usr/bin/env bash
# The main job on a CPU: write the chest phantoms (if absent), pre-train the tiny UniMedI
# on them, evaluate on the phantom test split (image <-> report retrieval and zero-shot
# classification, pre-trained beside a random initialisation), then draw what the model
# learned: the slice / region selection, the common image-report space and the training
# curves. Ends with the summary tables and the paths of the figures.
#   bash tools/demo.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
CONFIG=configs/unimedi/vit_tiny_pretrain_phantom.py
WORK_DIR=${1:-work_dirs/vit_tiny_pretrain_phantom}
DATA=data/phantoms
FIGURES=$WORK_DIR/figures
if [ ! -f "$DATA/manifest.jsonl" ]; then  # the per-split counts go to a log file
  mkdir -p "$WORK_DIR"
  "$PY" tools/data/make_phantoms.py --out "$DATA" --num-3d 200 --num-2d 600 --seed 0 \
    > "$WORK_DIR/make_phantoms.log"
  grep '^wrote' "$WORK_DIR/make_phantoms.log" || true
fi
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR"
CHECKPOINT=$(cat "$WORK_DIR/last_checkpoint")
# the evaluations' own logs go to files; their metrics are compared below
for run in pretrained random_init; do
  if [ "$run" = pretrained ]; then source=("$CHECKPOINT"); else source=(--random-init); fi
  "$PY" tools/test.py "$CONFIG" "${source[@]}" --work-dir "$WORK_DIR/test_$run" \
    > "$WORK_DIR/test_$run.log" 2>&1 || { tail -n 30 "$WORK_DIR/test_$run.log"; exit 1; }
  echo "evaluated $run on the test split (log: $WORK_DIR/test_$run.log)"
done
"$PY" tools/analysis/visualize_selection.py "$CONFIG" "$CHECKPOINT" --out "$FIGURES/selection" \
  --max-cases 4 2>&1 | sed '/Loading weights/d'
"$PY" tools/analysis/embedding_map.py "$CONFIG" "$CHECKPOINT" --out "$FIGURES/embedding_map.png" \
  2>&1 | sed '/Loading weights/d'
"$PY" tools/analysis/plot_curves.py "$WORK_DIR" --out "$FIGURES/curves.png"
echo
echo "== training, by phase =="
"$PY" tools/analysis/summarize_pretrain_log.py "$WORK_DIR"
echo
echo "== test split: pre-trained vs random init =="
"$PY" tools/analysis/compare_metrics.py \
  "pre-trained=$WORK_DIR/test_pretrained/metrics.json" \
  "random init=$WORK_DIR/test_random_init/metrics.json"
echo
echo "== figures =="
echo "  selection (index, per-CT and per-radiograph): $FIGURES/selection/index.png"
echo "  common space (pre-trained vs random init):    $FIGURES/embedding_map.png"
echo "  training curves:                              $FIGURES/curves.png"
