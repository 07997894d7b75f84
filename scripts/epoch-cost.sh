#!/bin/sh
# What one epoch of each ablation setting costs, measured on one build in one sitting: the ablation
# rows ran over two weeks on several machines and builds, so their own wall times do not compare.
# Only the settings that change the work of an epoch are run (augmentation, erasing, label smoothing,
# weight decay, the weight average, precise BN, dropout in the blocks, the model); a schedule, a
# warm-up, an initialization or a seed changes no step's work, and early stopping changes only the
# number of epochs, so `train ablation --epoch-cost` prices those rows with their model's plain epoch.
#
# Each round runs every setting once, for one epoch, in a fresh order (shuf), so the host's slow
# minutes fall on all settings alike; `train epoch-cost` turns the runs into Go benchmark lines
# (BenchmarkEpoch/model=…/changes=…) and benchstat compares each setting with its model's plain one.
#
#   scripts/epoch-cost.sh                        # 3 rounds: 2 cores, 40 min (AVX-512) to 2 h (AVX2)
#   ROUNDS=1 SETTINGS='cnn-none|--model cnn' OUT=/tmp/ec scripts/epoch-cost.sh
#   train ablation --epoch-cost out/epoch-cost/epoch-cost.txt out/ablation
set -eu
OUT=${OUT:-out/epoch-cost}
ROUNDS=${ROUNDS:-3}
TRAIN=${TRAIN:-}
GO=${GO:-go}

# name | flags on top of the study's recipe (as in scripts/ablation.sh)
SETTINGS=${SETTINGS:-'
resnet-none|--model resnet
resnet-augment|--model resnet --augment
resnet-ema|--model resnet --ema 0.999
resnet-pbn|--model resnet --precise-bn 50
resnet-regularized|--model resnet --augment --erase 0.5 --label-smoothing 0.1 --weight-decay 0.05
resnet-blockdrop|--model resnet --block-dropout 0.2
resnet-wide-none|--model resnet-wide
resnet-deep-none|--model resnet-deep
cnn-none|--model cnn
cnn-augment|--model cnn --augment
cnn-ema|--model cnn --ema 0.999
cnn-pbn|--model cnn --precise-bn 50
ann-none|--model ann
'}

if [ -z "$TRAIN" ]; then
	mkdir -p "$OUT"
	$GO build -o "$OUT/train" ./cmd/train
	TRAIN=$OUT/train
fi
i=0
while [ "$i" -lt "$ROUNDS" ]; do
	i=$((i + 1))
	echo "$SETTINGS" | grep '|' | shuf | while IFS='|' read -r name flags; do
		dir=$OUT/runs/r$i-$name
		if ls "$dir"/*.metrics.json >/dev/null 2>&1; then
			continue # a finished run of an interrupted script
		fi
		echo "== round $i of $ROUNDS: $name: train $flags --epochs 1" >&2
		rm -rf "$dir"
		mkdir -p "$OUT/runs"
		# shellcheck disable=SC2086
		$TRAIN $flags --epochs 1 --out "$dir" </dev/null >"$dir.log" 2>&1
	done
done
# The tree's own reader, so a TRAIN built at an older commit (to measure that build) still works.
$GO run ./cmd/train epoch-cost "$OUT/runs" >"$OUT/epoch-cost.txt.tmp"
mv "$OUT/epoch-cost.txt.tmp" "$OUT/epoch-cost.txt"
$GO run golang.org/x/perf/cmd/benchstat -row /model -col /changes "$OUT/epoch-cost.txt"
