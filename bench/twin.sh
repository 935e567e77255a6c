#!/usr/bin/env bash
# The twin's figures for the example stack, each run RUNS times (default 3): `twin up`, the
# time from up to the first 200 through the ALB, `twin test` (connections tried per second),
# `drill` (its total time, the scale-out from load to a new server answering through the ALB,
# the scale-in after the load, and the database failover's interruption) and `twin down`. Goals on
# the 2-core machine: up <= 10 s, the whole test <= 60 s, down <= 3 s, the failover's
# interruption under 10 s. Needs root and nftables. Run through `make bench-twin`.
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
	alb=$(./bin/webtier twin hosts | awk '$2 == "alb" && $6 != "-" && !found { print $6; found = 1 }')
	until ./bin/webtier twin exec internet -- curl -sf -m 2 -o /dev/null "http://$alb/"; do sleep 0.2; done
	t200=$(date +%s%N)
	out=$(./bin/webtier twin test)
	t2=$(date +%s%N)
	drill=$(./bin/webtier drill || true)
	t3=$(date +%s%N)
	./bin/webtier twin down >/dev/null
	t4=$(date +%s%N)
	rate=$(sed -n 's/^ *\([0-9]*\) connections in [0-9.]*s (\([0-9]*\) per second.*/\1 connections, \2 per second/p' <<<"$out")
	failover=$(grep -o 'interrupted [0-9.]*s' <<<"$drill" || echo "no failover figure")
	out_s=$(grep -o 'answered through the ALB after [0-9.]*s' <<<"$drill" | grep -o '[0-9.]*s$' || echo "-")
	in_s=$(grep -o 'desired [0-9]* -> [0-9]* after [0-9.]*s ([^)]* ended)' <<<"$drill" | grep -o 'after [0-9.]*s' | grep -o '[0-9.]*s$' || echo "-")
	passed=$(grep -o '[0-9]* of [0-9]* passed' <<<"$drill")
	echo "run $i: up $(secs "$t0" "$t1") s, first 200 through the ALB $(secs "$t0" "$t200") s after up began," \
		"test $(secs "$t200" "$t2") s (${rate}), drill $(secs "$t2" "$t3") s (${passed}; scale-out: a new server in rotation ${out_s}" \
		"after the load began, back to min ${in_s} after the load ended; failover ${failover}), down $(secs "$t3" "$t4") s"
done
