#!/bin/sh
# Issue 6's ablation: each of the study's recommendations measured against its recipe, on the
# residual CNN (and the study's CNN as the reference); early stopping also on the ANN and the CNN.
# Each row is compared with its own model's *-study run. Every run writes into its own directory under
# $OUT (default out/ablation) and checkpoints after every epoch, so an interrupted script can be run
# again: finished runs are skipped, an interrupted one resumes where it stopped (--resume).
# At the end `train ablation $OUT` writes $OUT/ablation.json and $OUT/ablation.md (`train ablation
# --out DIR DIR1 DIR2 …` gathers the runs of several OUT directories into one table).
#
#   scripts/ablation.sh                 # all runs (hours on 2 cores)
#   scripts/ablation.sh resnet-study    # only the named runs
#   OUT=/tmp/abl ARGS="--limit 5000 --epochs 3" scripts/ablation.sh   # a quick smoke version
set -eu
OUT=${OUT:-out/ablation}
ARGS=${ARGS:-}
TRAIN=${TRAIN:-go run ./cmd/train}

# name | flags (on top of the study's recipe: Adam 1e-3, batch 128, 18 epochs, plateau, seed 1)
RUNS='
01-cnn-study|--model cnn
02-resnet-study|--model resnet
03-resnet-early|--model resnet --patience 3
04-resnet-warmup|--model resnet --warmup 2
05-resnet-cosine|--model resnet --schedule cosine --warmup 1
06-resnet-onecycle|--model resnet --schedule onecycle --lr 0.003
07-resnet-augment|--model resnet --augment
08-resnet-best|--model resnet --schedule cosine --warmup 1 --augment --epochs 30
08-resnet-best100|--model resnet --schedule cosine --warmup 1 --augment --epochs 100
09-ann-study|--model ann
10-ann-early|--model ann --patience 3
10-ann-early5|--model ann --patience 5
11-cnn-early|--model cnn --patience 3
11-cnn-early5|--model cnn --patience 5
12-cnn-warmup|--model cnn --warmup 2
13-cnn-cosine|--model cnn --schedule cosine --warmup 1
14-cnn-onecycle|--model cnn --schedule onecycle --lr 0.003
15-cnn-augment|--model cnn --augment
16-resnet-pbn|--model resnet --precise-bn 50
17-resnet-augment-pbn|--model resnet --augment --precise-bn 50
18-resnet-early-pbn|--model resnet --patience 3 --precise-bn 50
19-cnn-pbn|--model cnn --precise-bn 50
20-resnet-onecycle-augment|--model resnet --schedule onecycle --lr 0.003 --augment --epochs 30
21-resnet-regularized60|--model resnet --schedule onecycle --lr 0.003 --augment --erase 0.5 --label-smoothing 0.1 --weight-decay 0.05 --epochs 60 --test-each-epoch
22-cnn-plateau60|--model cnn --epochs 60 --test-each-epoch
23-resnet-blockdrop2|--model resnet --block-dropout 0.2 --test-each-epoch
24-resnet-blockdrop3|--model resnet --block-dropout 0.3 --test-each-epoch
26-resnet-kaiming|--model resnet --init kaiming --test-each-epoch
27-resnet-kaiming-blockdrop2|--model resnet --init kaiming --block-dropout 0.2 --test-each-epoch
28-resnet-zeroinit|--model resnet --zero-init-residual --test-each-epoch
29-resnet-torchvision-init|--model resnet --init kaiming --zero-init-residual --test-each-epoch
30-resnet-study-seed2|--model resnet --seed 2 --test-each-epoch
31-resnet-study-seed3|--model resnet --seed 3 --test-each-epoch
32-resnet-wide|--model resnet-wide --test-each-epoch
33-resnet-wide-seed2|--model resnet-wide --seed 2 --test-each-epoch
34-resnet-study-seed4|--model resnet --seed 4 --test-each-epoch
35-resnet-deep|--model resnet-deep --test-each-epoch
36-resnet-deep-seed2|--model resnet-deep --seed 2 --test-each-epoch
37-resnet-ema|--model resnet --ema 0.999 --test-each-epoch
38-resnet-ema-seed2|--model resnet --ema 0.999 --seed 2 --test-each-epoch
39-resnet-ema-seed3|--model resnet --ema 0.999 --seed 3 --test-each-epoch
40-cnn-ema|--model cnn --ema 0.999 --test-each-epoch
41-resnet-onecycle-seed2|--model resnet --schedule onecycle --lr 0.003 --seed 2 --test-each-epoch
42-resnet-onecycle-seed3|--model resnet --schedule onecycle --lr 0.003 --seed 3 --test-each-epoch
43-cnn-ema-seed2|--model cnn --ema 0.999 --seed 2 --test-each-epoch
44-cnn-ema-seed3|--model cnn --ema 0.999 --seed 3 --test-each-epoch
45-cnn-ema-seed4|--model cnn --ema 0.999 --seed 4 --test-each-epoch
46-resnet-onecycle-augment18|--model resnet --schedule onecycle --lr 0.003 --augment --test-each-epoch
47-resnet-onecycle-augment18-seed2|--model resnet --schedule onecycle --lr 0.003 --augment --seed 2 --test-each-epoch
48-resnet-onecycle-augment18-seed3|--model resnet --schedule onecycle --lr 0.003 --augment --seed 3 --test-each-epoch
49-resnet-ema-seed4|--model resnet --ema 0.999 --seed 4 --test-each-epoch
50-resnet-onecycle-augment18-seed4|--model resnet --schedule onecycle --lr 0.003 --augment --seed 4 --test-each-epoch
51-resnet-regularized66-seed2|--model resnet --schedule onecycle --lr 0.003 --augment --erase 0.5 --label-smoothing 0.1 --weight-decay 0.05 --epochs 66 --seed 2 --test-each-epoch
52-resnet-regularized66-seed3|--model resnet --schedule onecycle --lr 0.003 --augment --erase 0.5 --label-smoothing 0.1 --weight-decay 0.05 --epochs 66 --seed 3 --test-each-epoch
25-resnet-regularized66|--model resnet --schedule onecycle --lr 0.003 --augment --erase 0.5 --label-smoothing 0.1 --weight-decay 0.05 --epochs 66
53-resnet-regularized66-seed4|--model resnet --schedule onecycle --lr 0.003 --augment --erase 0.5 --label-smoothing 0.1 --weight-decay 0.05 --epochs 66 --seed 4 --test-each-epoch
'

want() { # want NAME [PATTERN...]: all runs, or those whose name contains a pattern
	n=$1
	shift
	[ $# -eq 0 ] && return 0
	for w in "$@"; do case $n in *"$w"*) return 0 ;; esac; done
	return 1
}

echo "$RUNS" | while IFS='|' read -r name flags; do
	[ -n "$name" ] || continue
	want "$name" "$@" || continue
	dir=$OUT/$name
	model=$(echo "$flags" | sed 's/.*--model \([a-z-]*\).*/\1/')
	if [ -f "$dir/$model.metrics.json" ]; then
		echo "== $name: done ($dir/$model.metrics.json)"
		continue
	fi
	echo "== $name: train $flags $ARGS --out $dir --resume"
	mkdir -p "$dir"
	# shellcheck disable=SC2086
	$TRAIN $flags $ARGS --out "$dir" --resume </dev/null
done
$TRAIN ablation "$OUT"
