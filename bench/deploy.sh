#!/usr/bin/env bash
# Compares a local `webtier deploy` (init, validate, plan to a file, apply it, outputs, live
# verify) with a bare `terraform init && terraform apply` of the same synthesized JSON on the
# same kind of emulator, and prints each step's time. Goal: webtier adds at most 20 %.
# Takes ~10 minutes (two deploys and two destroys). Run through `make bench-deploy`.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
moto_pid=
cleanup() {
	[ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null || true
	./bin/webtier destroy --config "$config" --dir "$work/webtier" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
config=${CONFIG:-webtier.example.json}
# The same CLI config webtier picks: the offline provider mirror when there is one.
export TF_CLI_CONFIG_FILE="$PWD/terraform/$([ -d /opt/tf-plugins ] && echo mirror || echo registry).tfrc"
go build -o bin/webtier .
./bin/webtier synth --config "$config" --out "$work/out" >/dev/null

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# Bare terraform on its own emulator, with the provider settings webtier writes.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 emulator/moto_server.py -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
until curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null; do sleep 0.2; done
mkdir -p "$work/bare"
cp "$work/out/stacks/webtier/cdk.tf.json" "$work/bare/"
python3 - "$port" >"$work/bare/webtier_override.tf.json" <<'PY'
import json, sys
url = "http://127.0.0.1:" + sys.argv[1]
services = ["ec2", "elbv2", "autoscaling", "rds", "efs", "iam", "sts", "ssm",
            "secretsmanager", "cloudwatch", "kms", "logs"]
print(json.dumps({"provider": {"aws": {
    "access_key": "test", "secret_key": "test", "skip_credentials_validation": True,
    "skip_metadata_api_check": True, "s3_use_path_style": True,
    "endpoints": [{s: url for s in services}]}}}))
PY
t0=$(date +%s%N)
terraform -chdir="$work/bare" init -input=false >/dev/null
t1=$(date +%s%N)
terraform -chdir="$work/bare" apply -auto-approve -input=false >"$work/bare.log"
t2=$(date +%s%N)
terraform -chdir="$work/bare" destroy -auto-approve -input=false >/dev/null
kill "$moto_pid"; moto_pid=

# webtier, from its own synth to its live verify.
t3=$(date +%s%N)
./bin/webtier deploy --config "$config" --dir "$work/webtier" >"$work/webtier.log"
t4=$(date +%s%N)

bare=$(secs "$t0" "$t2")
echo "bare terraform (same JSON, same emulator kind):"
echo "  init                 $(secs "$t0" "$t1")s"
echo "  apply                $(secs "$t1" "$t2")s"
echo "  total                ${bare}s"
echo "webtier deploy (steps as it reports them):"
sed -n '/^Steps:/,$p' "$work/webtier.log" | tail -n +2
total=$(secs "$t3" "$t4")
echo "  wall clock           ${total}s (synth and emulator start-up included)"
awk -v w="$total" -v b="$bare" 'BEGIN { printf "overhead: %+.0f%% over bare terraform (goal: at most +20%%)\n", (w / b - 1) * 100 }'
