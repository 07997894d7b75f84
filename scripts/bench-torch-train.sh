#!/bin/sh
# One training step at batch 128 (forward in training mode, cross-entropy, backward, Adam), this
# tree's root BenchmarkTrainStep against the same step in PyTorch 1.13 (testdata/torch_bench.py
# --train), and optionally against an earlier commit of this kit, in one benchstat table.
#
# The implementations run interleaved: ROUNDS rounds of one run of each, so that the host's slow
# minutes fall on all of them alike. On a shared host, back-to-back blocks of -count 6 each measured
# the same binary 14–20% apart; interleaved, the spread fell to 1–3%.
#
#   scripts/bench-torch-train.sh                     # ann, cnn and resnet; 10 rounds
#   BASE=a48d2e5 MODELS=resnet scripts/bench-torch-train.sh
#   ROUNDS=6 BENCHTIME=1 OUT=/tmp/bt scripts/bench-torch-train.sh
#
# With BASE it also prints the per-round ratios' median: see the end.
#
# Needs /usr/bin/python3 with torch (make setup-compare). Writes $OUT/train-*.txt.
set -eu
OUT=${OUT:-out}
ROUNDS=${ROUNDS:-10}
BENCHTIME=${BENCHTIME:-2}
MODELS=${MODELS:-ann cnn resnet}
BASE=${BASE:-}
GO=${GO:-go}

mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -z "$BASE" ] || git worktree remove --force "$tmp/base" 2>/dev/null || true' EXIT

$GO test -c -o "$tmp/head.test" .
head=$(git rev-parse --short HEAD)
if ! git diff --quiet HEAD -- . ':!out'; then head="$head+dirty"; fi
if [ -n "$BASE" ]; then
	git worktree add --detach "$tmp/base" "$BASE" >/dev/null
	(cd "$tmp/base" && $GO test -c -o "$tmp/base.test" .)
	BASE=$(git rev-parse --short "$BASE")
fi

# The environment PyTorch measures best in here (see testdata/torch_bench.py).
torch() {
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
		MALLOC_MMAP_THRESHOLD_=2147483648 MALLOC_TRIM_THRESHOLD_=4294967296 \
		/usr/bin/python3 testdata/torch_bench.py "$@"
}
pattern="TrainStep/model=($(echo $MODELS | tr ' ' '|'))/"

: >"$tmp/head.raw"
: >"$tmp/base.raw"
: >"$OUT/train-pytorch.txt"
i=0
while [ "$i" -lt "$ROUNDS" ]; do
	i=$((i + 1))
	"$tmp/head.test" -test.run '^$' -test.bench "$pattern" -test.benchtime "${BENCHTIME}s" >>"$tmp/head.raw"
	[ -z "$BASE" ] || "$tmp/base.test" -test.run '^$' -test.bench "$pattern" -test.benchtime "${BENCHTIME}s" >>"$tmp/base.raw"
	for m in $MODELS; do
		torch --train --model "$m" --count 1 --benchtime "$BENCHTIME" --threads 2 >>"$OUT/train-pytorch.txt"
	done
	echo "round $i of $ROUNDS" >&2
done

# impl=<name> as the first sub-benchmark key, and no -GOMAXPROCS suffix, so benchstat -col /impl
# lines the implementations up.
label() { sed -e "s|^BenchmarkTrainStep/|BenchmarkTrainStep/impl=$1/|" -e 's|^\(Benchmark[^ \t]*\)-[0-9]*|\1|' "$2"; }
label "simdnn-$head" "$tmp/head.raw" >"$OUT/train-simdnn.txt"
files="$OUT/train-pytorch.txt"
if [ -n "$BASE" ]; then
	label "simdnn-$BASE" "$tmp/base.raw" >"$OUT/train-simdnn-base.txt"
	files="$files $OUT/train-simdnn-base.txt"
fi
$GO run golang.org/x/perf/cmd/benchstat -table '' -col /impl $files "$OUT/train-simdnn.txt"

# With BASE, the rounds also pair up: round i's two runs of ours ran back to back, so their ratio
# cancels the host's slow minutes that benchstat's unpaired test counts as noise. Per model: the
# median of the per-round ratios HEAD/BASE and in how many rounds HEAD was faster.
if [ -n "$BASE" ]; then
	echo
	echo "paired by round, $head / $BASE (sec/op):"
	for m in $MODELS; do
		pick() { awk -v m="model=$m/" 'index($1, m) && $4 == "ns/op" { print $3 }' "$1"; }
		pick "$tmp/head.raw" >"$tmp/h.$m"
		pick "$tmp/base.raw" >"$tmp/b.$m"
		paste "$tmp/h.$m" "$tmp/b.$m" | awk '{ print $1 / $2 }' | sort -g | awk -v m="$m" '
			{ r[NR] = $1; if ($1 < 1) w++ }
			END { med = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
			      printf "  %-7s median ratio %.3f (%+.1f%%), faster in %d of %d rounds\n", m, med, 100 * (med - 1), w, NR }'
	done
fi
