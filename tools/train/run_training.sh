#!/bin/sh
# Starts (or with --resume continues) training in the background; log in tools/.cache/train.out.
# The malloc settings keep freed activations in the heap instead of returning them to the kernel:
# without them each step spends most of its time in page faults (3-4x slower here).
cd "$(dirname "$0")/../.." || exit 1
mkdir -p tools/.cache
export MALLOC_MMAP_THRESHOLD_=2000000000 MALLOC_TRIM_THRESHOLD_=4000000000 MALLOC_TOP_PAD_=500000000
export OMP_NUM_THREADS=1
nohup /usr/bin/python3 tools/train/train.py "$@" >> tools/.cache/train.out 2>&1 &
echo "training pid $!"
