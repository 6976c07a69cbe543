#!/bin/sh
# Trains the embedded diffusion model (VAE, then UNet) in the background, niced, on $THREADS (default 1)
# torch/OpenBLAS threads: on this shared machine 2 threads measured 7-17x SLOWER per step than 1
# (threads spin-waiting for a core; see tools/diffusion/README.md). THREADS=2 on an idle machine.
#   tools/diffusion/run_training.sh --hours 3 [--renderer faces2] [--resume]
# Log: tools/.cache/diffusion/train.out; losses: tools/.cache/diffusion/log.csv;
# checkpoint: tools/.cache/diffusion/latest.pt (export with tools/diffusion/export.py embedded).
# The malloc settings keep freed activations in the heap instead of handing them back to the
# kernel (tools/train/run_training.sh measured 3-4x slower steps without them on this machine).
cd "$(dirname "$0")/../.." || exit 1
mkdir -p tools/.cache/diffusion
export MALLOC_MMAP_THRESHOLD_=2000000000 MALLOC_TRIM_THRESHOLD_=4000000000 MALLOC_TOP_PAD_=500000000
THREADS=${THREADS:-1}
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
nohup nice -n 5 /usr/bin/python3 tools/diffusion/train.py --threads "$THREADS" "$@" >> tools/.cache/diffusion/train.out 2>&1 &
echo "training pid $!"
