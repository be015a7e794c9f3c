#!/usr/bin/env bash
# GPU-scale efficiency sweep of tools/analysis/benchmark_pretrain.py: UniMedI beside the timm
# baseline, ViT-B/16 (224 x 224 radiographs, 32 x 128 x 128 CTs), tiny text encoder, bf16
# autocast; throughput, GFLOPs/sample, MFU and peak memory per batch size and variant. Made
# for one lent H200 (the device machine provides $OUT; elsewhere it defaults to
# work_dirs/gpu_sweep), run from the repository root:
#
#     bash tools/analysis/gpu_efficiency_sweep.sh
#
# Three parts, each under its own `timeout` (a hang or a slow compile cannot eat the rest),
# each writing its rows as JSON after every row (a part cut by its timeout keeps the rows it
# finished, marked "complete": false); at the end all rows are merged into
# $OUT/gpu_sweep.json and printed as one table:
#
#   A. mixed batches, batch 32 / 128 / 256, variants eager and ckpt, 2 warm-up + 8 timed
#      steps. Estimate (from the measured batch 32 mixed: UniMedI 90 ms/step, baseline
#      52 ms/step, scaled linearly with the batch, ckpt +35%, 3 s per model build, one
#      untimed FLOP-count step per model and batch size, 25 s start-up): ~105 s; limit 150 s.
#   B. 2D-only and 3D-only batches at the best batch size of A (the highest UniMedI
#      samples/s that did not run out of memory), eager and ckpt, 2 + 5 steps: ~100 s
#      (at batch 32, 3D-only steps took about as long as mixed ones, 2D-only 0.7x); limit
#      130 s.
#   C. mixed batches, batch 256 / 128 / 32 (largest first), variants compile and
#      compile+ckpt: each row compiles both models afresh (static shapes; UniMedI: student
#      and teacher encoders, 2D and 3D; the baseline: its 2D and 3D encode functions), an
#      estimated 60-120 s per row, so C gets the time left of the budget and is expected to
#      be cut after 2-4 of its 6 rows.
#
# Total: at most SWEEP_BUDGET_S (default 450 s = 7.5 min) plus ~15 s of checks and merging,
# i.e. under 8 minutes; give the device call timeout_s=540 or more.
#
# Memory (141 GB H200): UniMedI needed 7.7 GiB at batch 32 mixed (about 2 GiB of weights,
# gradients, AdamW state and teacher, the rest activations); linear in the batch, batch 256
# mixed needs ~48 GiB, batch 256 3D-only (512 tokens + selected slices per CT) an estimated
# 70-80 GiB: it should fit. A row that does run out of memory shows "OOM" and the sweep
# goes on.
#
# Needs python3 with torch, timm, transformers and mmengine (and unimedi's other imports:
# addict, yapf, termcolor, monai, nibabel, pydicom...). Missing packages can travel as
# wheels in .whl/ (see the device README); they are installed from there when present.
set -uo pipefail

OUT=${OUT:-work_dirs/gpu_sweep}
PY=${PYTHON:-python3}
BUDGET=${SWEEP_BUDGET_S:-450}
TOOL=tools/analysis/benchmark_pretrain.py
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
LOG="$OUT/gpu_sweep.log"
: >"$LOG"

nvidia-smi --query-gpu=name --format=csv 2>&1 | tee -a "$LOG"

if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl 2>&1 | tail -3 | tee -a "$LOG"
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
if ! "$PY" -c 'import os, torch, timm, transformers, mmengine, unimedi.models
print("torch", torch.__version__, "timm", timm.__version__, "cuda", torch.cuda.is_available())
assert torch.cuda.is_available() or os.environ.get("SWEEP_ALLOW_CPU"), "no CUDA GPU"' \
        2>&1 | tee -a "$LOG"; then
    echo "preflight failed (see above): a missing package can travel as a wheel in .whl/" \
        | tee -a "$LOG"
    exit 2
fi

# SWEEP_COMMON and SWEEP_BATCHES replace the model options and the batch sizes (a dry run
# on a CPU: SWEEP_ALLOW_CPU=1 SWEEP_COMMON='--archs tiny --device cpu --size-2d 32
# --size-3d 8 32 32 --text-length 16' SWEEP_BATCHES='2 4' SWEEP_BUDGET_S=200)
read -r -a COMMON <<<"${SWEEP_COMMON:---archs base --device cuda --amp --text tiny}"
read -r -a BATCHES <<<"${SWEEP_BATCHES:-32 128 256}"
BATCHES_DOWN=()
for ((i = ${#BATCHES[@]} - 1; i >= 0; i--)); do BATCHES_DOWN+=("${BATCHES[i]}"); done
START=$SECONDS

part() {  # part LIMIT_S NAME ARGS... ; the tool's exit status is logged, never fatal
    local limit=$1 name=$2
    shift 2
    echo "=== part $name (limit ${limit} s, $((SECONDS - START)) s elapsed) ===" | tee -a "$LOG"
    timeout --kill-after=10 "$limit" "$PY" "$TOOL" "${COMMON[@]}" "$@" \
        --json "$OUT/gpu_sweep_$name.json" 2>&1 | tee -a "$LOG"
    local status=${PIPESTATUS[0]}
    echo "=== part $name: exit status $status (124: cut by its limit) ===" | tee -a "$LOG"
}

part 150 mixed --modes mixed --batch-size "${BATCHES[@]}" --variants eager ckpt \
    --warmup 2 --iters 8

BEST=$("$PY" - "$OUT/gpu_sweep_mixed.json" "${BATCHES[0]}" <<'EOF'
import json, sys
try:
    rows = json.load(open(sys.argv[1]))['rows']
except (OSError, ValueError, KeyError):
    rows = []
ok = [r for r in rows if r['variant'] == 'eager' and r['unimedi']['status'] == 'ok']
print(max(ok, key=lambda r: r['unimedi']['samples_per_s'])['batch_size'] if ok
      else sys.argv[2])
EOF
)
echo "best batch size of part mixed: $BEST" | tee -a "$LOG"
part 130 modes --modes 2d 3d --batch-size "$BEST" --variants eager ckpt --warmup 2 --iters 5

LEFT=$((BUDGET - (SECONDS - START) - 10))
if [ "$LEFT" -ge 60 ]; then
    part "$LEFT" compile --modes mixed --batch-size "${BATCHES_DOWN[@]}" \
        --variants compile compile+ckpt --warmup 2 --iters 8
else
    echo "=== part compile skipped: ${LEFT} s left of the budget ===" | tee -a "$LOG"
fi

"$PY" - "$OUT" <<'EOF' 2>&1 | tee -a "$LOG"
import importlib.util, json, sys
from pathlib import Path
out = Path(sys.argv[1])
spec = importlib.util.spec_from_file_location('bench', 'tools/analysis/benchmark_pretrain.py')
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
merged = dict(parts={}, rows=[])
for name in ('mixed', 'modes', 'compile'):
    path = out / f'gpu_sweep_{name}.json'
    if not path.exists():
        merged['parts'][name] = 'missing'
        continue
    data = json.loads(path.read_text())
    merged['parts'][name] = dict(complete=data['complete'], rows=len(data['rows']),
                                 options=data['options'])
    for key in ('torch', 'cuda', 'devices'):
        merged.setdefault(key, data.get(key))
    merged['rows'] += data['rows']
(out / 'gpu_sweep.json').write_text(json.dumps(merged, indent=2))
print()
print(bench.format_table(merged['rows']) if merged['rows'] else 'no rows')
for name, part in merged['parts'].items():
    print(f'part {name}:', part if part == 'missing' else
          f"{part['rows']} rows, {'complete' if part['complete'] else 'cut short'}")
for name, device in (merged.get('devices') or {}).items():
    print(f"MFU peak on {name}: {device['peak_source']}")
print(f"{len(merged['rows'])} rows in {out / 'gpu_sweep.json'}")
EOF
echo "total $((SECONDS - START)) s after the checks" | tee -a "$LOG"
