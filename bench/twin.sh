#!/usr/bin/env bash
# The twin's figures for the example stack, each run RUNS times (default 3): `twin up`, the
# time from up to the first 200 through the ALB, `twin test` (connections tried per second),
# `drill` (its total time, the scale-out from load to a new server answering through the ALB,
# the scale-in after the load, and the database failover's interruption) and `twin down`. Goals on
# the 2-core machine: up <= 10 s, the whole test <= 60 s, down <= 3 s, the failover's
# interruption under 10 s. Then the replay of a change (below). Needs root and nftables. Run
# through `make bench-twin`; ONLY=replay runs the replay alone.
set -euo pipefail
cd "$(dirname "$0")/.."
export WEBTIER_TWIN_PREFIX=wtb-
runs=${RUNS:-3}
go build -o bin/webtier .
trap './bin/webtier twin down >/dev/null 2>&1 || true' EXIT
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; }
for i in $(seq "$runs"); do
	[ "${ONLY:-}" = replay ] && break
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

# The replay of a change (`twin change`): a new launch template (another instance type) on the
# example stack, with the stack's instance refresh preferences and with the ones it had before
# (min 50 %, no max, no warm-up: the 300 s grace period). Figures: the replay's time, requests
# through the ALB nodes sent and failed, the longest run of failures, the fewest targets in
# service at a node, and the SSH session. Goal: under 3 minutes.
dir=$(mktemp -d)
trap './bin/webtier twin down >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import json, os, sys
dir = sys.argv[1]
base = json.load(open("testdata/webtier.tf.json"))
def write(name, stack):
    os.makedirs(os.path.join(dir, name), exist_ok=True)
    json.dump(stack, open(os.path.join(dir, name, "cdk.tf.json"), "w"))
def new_template(stack):
    s = json.loads(json.dumps(stack))
    s["resource"]["aws_launch_template"]["web"]["instance_type"] = "t3.small"
    return s
write("defaults", base)
write("defaults-new", new_template(base))
before = json.loads(json.dumps(base))
group = before["resource"]["aws_autoscaling_group"]["web"]
group["instance_refresh"]["preferences"] = {"min_healthy_percentage": 50}
group.pop("default_instance_warmup", None)
write("before", before)
write("before-new", new_template(before))
PY
# The config a synthesized stack has beside it.
cp webtier.example.json "$dir/defaults-new/webtier.config.json"
cp webtier.example.json "$dir/before-new/webtier.config.json"
for i in $(seq "$runs"); do
	for side in defaults before; do
		./bin/webtier twin up --in "$dir/$side/cdk.tf.json" --config webtier.example.json >/dev/null
		t0=$(date +%s%N)
		./bin/webtier twin change --to "$dir/$side-new" --json >"$dir/report.json" || true
		t1=$(date +%s%N)
		./bin/webtier twin down >/dev/null
		python3 - "$dir/report.json" "$side" "$i" "$(secs "$t0" "$t1")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
alb = [f for f in r["flows"] if f["flow"].endswith("/ every 100 ms")]
sent, failed = sum(f["sent"] for f in alb), sum(f["failed"] for f in alb)
gap = max((f["longest_gap"] for f in alb), default=0) / 1e9
fewest = min((f["fewest"] for f in r.get("in_service") or [] if f["step"] != "before"), default="-")
sessions = "; ".join("survived" if s["survived"] else "ended in %r" % s["ended_in"] for s in r.get("sessions") or []) or "none"
prefs = "the stack's preferences" if sys.argv[2] == "defaults" else "the preferences before (min 50 %)"
print(f"run {sys.argv[3]}: replay of a new launch template with {prefs}: {sys.argv[4]} s, {len(r['steps'])} steps; "
      f"through the ALB {sent} requests, {failed} failed, longest gap {gap:.1f} s; fewest targets in service {fewest}; ssh session {sessions}")
PY
	done
done
