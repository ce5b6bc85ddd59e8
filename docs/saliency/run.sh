#!/usr/bin/env bash
# Reproduces the figures of docs/SALIENCY.md: trains the models (bundled MNIST sample, rows 0..8000,
# 2000 fine-tuning steps to keep the run short), evaluates their held-out maps (rows 8000..10000)
# and measures every saliency method with `saliency --evaluate --json` on the 4 -> 9 direction and
# on the auto pairs. Run from the repository root after `cargo build --release -p ssne-cli`.
# Usage: docs/saliency/run.sh [OUT]   (default out/saliency-study)
set -euo pipefail
BIN=${BIN:-target/release/salient-sne}
OUT=${1:-out/saliency-study}
STEPS=${STEPS:-2000}
SEEDS=${SEEDS:-"1 2 3 4 5 6 7 8 9 10"}
mkdir -p "$OUT/models" "$OUT/eval" "$OUT/maps"
train() { # name, seed, flags...: the study's length, --finetune-steps $STEPS
  local name=$1 seed=$2; shift 2
  train_as "$name" "$seed" --finetune-steps "$STEPS" "$@"
}
train_as() { # name, seed, flags...: the length the flags (or the preset) give
  local name=$1 seed=$2; shift 2
  local model="$OUT/models/$name.ssne"
  [ -f "$model" ] && return
  local t0=$(date +%s.%N)
  "$BIN" --quiet train --rows 0..8000 --seed "$seed" --model "$model" "$@" > /dev/null
  echo "$name $(echo "$(date +%s.%N) - $t0" | bc)" >> "$OUT/train-seconds.txt"
  "$BIN" --quiet --json eval --model "$model" --rows 8000..10000 > "$OUT/eval/$name.json"
}
train default-1 1
train additive-1 1 --preset additive
train small-1 1 --hidden-widths 20
# The paper's method at its own length (200 epochs of fixed batches of 1000: 1600 steps here), and
# the default preset at its full length (6000 steps).
train_as paper-1 1 --preset paper
train_as full-1 1
# The network shapes of the full-size work (docs/QUALITY.md, "Networks that can carry a map"):
# umap-learn's encoder (3 x 100 ReLU, a linear 2-D head on the last), and the same on a fixed
# PCA-100 projection of the pixels (ParamRepulsor's input).
train wide-1 1 --hidden-widths 100,100,100 --head-input hidden --feature-activation identity
train pca-1 1 --input-pca 100 --hidden-widths 100,100,100 --head-input hidden --feature-activation identity
for s in $SEEDS; do train "default-$s" "$s"; done

# Faithfulness of every method: `saliency --evaluate` at the centre of each cluster of the training
# rows 0..8000, for every pair of neighbouring clusters (--pairs auto: 20 directed pairs here).
saliency() { # name, model, flags...
  local name=$1 model=$2; shift 2
  [ -f "$OUT/maps/$name.json" ] && return
  local t0=$(python3 -c "import time;print(time.time())")
  "$BIN" --quiet --json saliency --model "$OUT/models/$model.ssne" --rows 0..8000 --pairs auto \
    --evaluate --force --out "$OUT/maps/$name" "$@" > "$OUT/maps/$name.json"
  echo "$name $(python3 -c "import time;print(round(time.time()-$t0,2))")" >> "$OUT/saliency-seconds.txt"
}
for m in gradient input-x-gradient integrated smoothgrad smoothgrad-integrated; do
  saliency "default-1-$m" default-1 --method "$m"
done
saliency default-1-integrated-mean default-1 --method integrated --baseline mean
for m in gradient input-x-gradient integrated smoothgrad additive; do
  saliency "additive-1-$m" additive-1 --method "$m"
done
for m in gradient integrated smoothgrad; do
  saliency "small-1-$m" small-1 --method "$m"
  saliency "paper-1-$m" paper-1 --method "$m"
  saliency "full-1-$m" full-1 --method "$m"
  saliency "wide-1-$m" wide-1 --method "$m"
  saliency "pca-1-$m" pca-1 --method "$m"
done
# Ensembles of seeds 1..k (their mean map, measured against the seed-1 model).
members() { local k=$1 list=""; for s in $(seq 2 "$k"); do list="$list $OUT/models/default-$s.ssne"; done; echo "$list"; }
for k in 3 5 10; do
  for m in gradient integrated smoothgrad; do
    [ -f "$OUT/models/default-$k.ssne" ] && saliency "ensemble-$k-$m" default-1 --method "$m" --ensemble $(members "$k")
  done
done
python3 docs/saliency/summarise.py "$OUT" > "$OUT/tables.md"
