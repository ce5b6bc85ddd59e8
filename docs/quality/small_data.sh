#!/bin/sh
# Trains and evaluates salient-sne on the small sets of small_data.py (docs/QUALITY.md,
# "Small and non-MNIST data"): train on each set's first n_train rows, evaluate the network
# alone on the held-out rest. Usage:
#   docs/quality/small_data.sh TAG SEED [train flags...]     e.g.  before 42 --pretrain-epochs 10 ...
# Prints one line per set: name, tag, seed, 10-NN, 1-NN, trust. SETS="a b" limits the sets.
set -eu
BIN=${BIN:-target/release/salient-sne}
OUT=${OUT:-out/small}
tag=$1
seed=$2
shift 2
mkdir -p "$OUT/models"
while read -r name n_train n_total; do
    case " ${SETS:-$name} " in *" $name "*) ;; *) continue ;; esac
    model="$OUT/models/$name-$tag-$seed.ssne"
    "$BIN" train --threads 1 --quiet --force --data "$OUT/$name.npy" --labels "$OUT/$name.labels.npy" \
        --rows "0..$n_train" --seed "$seed" --model "$model" "$@" >/dev/null
    "$BIN" eval --threads 1 --quiet --json --model "$model" --data "$OUT/$name.npy" \
        --labels "$OUT/$name.labels.npy" --rows "$n_train..$n_total" |
        python3 -c "import json,sys; m=json.load(sys.stdin); print('$name $tag $seed', *(f'{m[k]:.3f}' for k in ('knn10_accuracy','knn1_accuracy','trustworthiness')), flush=True)"
done <"$OUT/sets.txt"
