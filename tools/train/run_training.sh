#!/bin/sh
# Starts (or with --resume continues) training in the background, niced, on 2 torch threads.
#   tools/train/run_training.sh --data faces2 --config faces2 --out tools/.cache/faces2 --hours 2.5 [--resume]
# Log in <--out>/train.out (default tools/.cache/train.out). First checks that torch runs on an
# optimised BLAS (tools/check_blas.py): on the reference BLAS a step is ~5x slower.
# The malloc settings keep freed activations in the heap instead of returning them to the kernel:
# without them each step spends most of its time in page faults (3-4x slower here).
cd "$(dirname "$0")/../.." || exit 1
/usr/bin/python3 tools/check_blas.py || exit 1
out=tools/.cache
prev=""
for a in "$@"; do
  [ "$prev" = "--out" ] && out="$a"
  prev="$a"
done
mkdir -p "$out"
export MALLOC_MMAP_THRESHOLD_=2000000000 MALLOC_TRIM_THRESHOLD_=4000000000 MALLOC_TOP_PAD_=500000000
# 2 threads that sleep instead of spinning while they wait for each other (OMP_WAIT_POLICY):
# with spinning threads a step took 6.6 s instead of 2.4 s when the machine was oversubscribed.
# OpenBLAS's own thread pool stays at 1 so it does not add threads on top of torch's.
export OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1
# nice 10: the training soaks up idle CPU while everyone else's tests keep priority
nohup nice -n 10 /usr/bin/python3 tools/train/train.py --threads 2 "$@" >> "$out/train.out" 2>&1 &
echo "training pid $! (log: $out/train.out)"
