#!/bin/sh
cd "$(dirname "$0")/../.." && mkdir -p tools/checkpoints/faces2g4 && cp tools/.cache/faces2g4/checkpoints/latest.pt tools/.cache/faces2g4/train_log.csv tools/checkpoints/faces2g4/
