#!/usr/bin/env bash
# Prints the median wall time of 5 syntheses of the web tier next to the median of 5 runs of
# an app that only declares the AWS provider (the jsii start-up floor), and their ratio.
# Goal: the stack costs at most 1.3x the floor. Run through `make bench`, which sets PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
config=${CONFIG:-webtier.example.json}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/webtier" .
go build -o "$work/floor" ./bench/floor

# median_ms CMD...: runs CMD $runs times (after one warm-up) and prints the median in ms.
median_ms() {
	"$@" >/dev/null
	local times=()
	for _ in $(seq "$runs"); do
		local start end
		start=$(date +%s%N)
		"$@" >/dev/null
		end=$(date +%s%N)
		times+=($(((end - start) / 1000000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

stack=$(median_ms "$work/webtier" synth --config "$config" --out "$work/stack.out")
floor=$(median_ms "$work/floor" "$work/floor.out")
resources=$(grep -o '"aws_[a-z_]*": {' "$work/stack.out/stacks/webtier/cdk.tf.json" | wc -l)
printf 'synth median of %d runs (JSII_RUNTIME_PACKAGE_CACHE=%s, node %s)\n' "$runs" "${JSII_RUNTIME_PACKAGE_CACHE:-unset}" "$(node --version)"
printf '  web tier stack: %6d ms  (%d resource types)\n' "$stack" "$resources"
printf '  provider only:  %6d ms  (jsii start-up floor)\n' "$floor"
awk -v s="$stack" -v f="$floor" 'BEGIN { printf "  ratio:          %6.2fx  (goal: at most 1.30x)\n", s / f }'
