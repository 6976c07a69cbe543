#!/bin/sh
# Conditions (2) and (3) of the model adoption rule (tools/README.md, ninth session of 7 Dec 2026)
# on one checkpoint, before anything tracked is touched:
#   tools/train/candidate_check.sh CKPT OUT
# part test on the 128 set against the default, a trial export to OUT/model (verified against its
# own golden fixture), the trimmed bench (short set at 60 steps) into OUT/bench, and bench_check.py
# against the default's lineage. Stops at the first failure (exit 1). Condition (1) is the run's log;
# (4) needs the full `pnpm bench` after adoption's export.
set -e
cd "$(dirname "$0")/../.."
ckpt=$1; out=$2
[ -f "$ckpt" ] && [ -n "$out" ] || { echo "usage: tools/train/candidate_check.sh CKPT OUT (CKPT must exist)"; exit 2; }
mkdir -p "$out"
abs=$(realpath -m "$out")
/usr/bin/python3 tools/train/part_check.py --set 128 --noninferior 0.05 tools/checkpoints/faces2wk2thstx/latest.pt "$ckpt"
/usr/bin/python3 tools/export/export.py default --ckpt "$ckpt" --out "$out/model" --fixture "$out/model/golden.json"
MODEL_DIR="$out/model" FIXTURE="$out/model/golden.json" node tools/export/verify.mjs default
(cd apps/bench && npx tsx --conditions=@stabledrag/source src/main.ts --model "$abs/model" \
    --out "$abs/bench" --report "$abs/bench/BENCHMARKS.md" \
    --budgets 60 --long-budget 60 --no-speed --no-wasm --time-limit 8)
/usr/bin/python3 tools/train/bench_check.py --ref tools/checkpoints/faces2wk2thstx/bench tools/checkpoints/thstx-len/bench \
    --cand "$out/bench"
