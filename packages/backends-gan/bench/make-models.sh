#!/bin/sh
# Builds the random-weight, official-architecture StyleGAN2 models the GAN speed bench drags
# (256 and 512 px, FFHQ config) into an ignored cache folder; skips a model that is already there.
# Usage: sh packages/backends-gan/bench/make-models.sh [resolutions...]   (default: 256 512)
set -e
root="$(cd "$(dirname "$0")/../../.." && pwd)"
cache="$root/packages/backends-gan/bench/.bench-out/models"
py="${PYTHON:-/usr/bin/python3}"
mkdir -p "$cache"
for res in ${*:-256 512}; do
  dir="$cache/stylegan2-$res"
  if [ -f "$dir/model.json" ]; then continue; fi
  "$py" "$root/tools/import/fake_pickle.py" "$cache/fake-$res.pkl" --resolution "$res"
  "$py" "$root/tools/import/import_pkl.py" "$cache/fake-$res.pkl" "$dir" --name "stylegan2-$res-random" --overwrite
  rm -f "$cache/fake-$res.pkl"
done
