#!/usr/bin/env bash
# The twin's figures for the example stack: `twin up`, `twin test` (connections tried per
# second) and `twin down`, each run RUNS times (default 3). Goals on the 2-core machine:
# up <= 10 s, the whole test <= 60 s, down <= 3 s. Needs root and nftables. Run through
# `make bench-twin`.
set -euo pipefail
cd "$(dirname "$0")/.."
export WEBTIER_TWIN_PREFIX=wtb-
runs=${RUNS:-3}
go build -o bin/webtier .
trap './bin/webtier twin down >/dev/null 2>&1 || true' EXIT
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
for i in $(seq "$runs"); do
	t0=$(date +%s%N)
	./bin/webtier twin up --in testdata/webtier.tf.json --config webtier.example.json >/dev/null
	t1=$(date +%s%N)
	out=$(./bin/webtier twin test)
	t2=$(date +%s%N)
	./bin/webtier twin down >/dev/null
	t3=$(date +%s%N)
	rate=$(sed -n 's/^ *\([0-9]*\) connections in [0-9.]*s (\([0-9]*\) per second.*/\1 connections, \2 per second/p' <<<"$out")
	echo "run $i: up $(secs "$t0" "$t1") s, test $(secs "$t1" "$t2") s (${rate}), down $(secs "$t2" "$t3") s"
done
