#!/usr/bin/env bash
# Runs csfle's main job end to end on the development environment:
# starts FerretDB and local-kms on 127.0.0.1, applies examples/quickstart,
# then the guide's migration (examples/local-to-aws): keys created under a
# local master key, then rewrapped under an AWS KMS key with the same ids;
# then an encrypted collection whose key is replaced (examples/replace-key)
# and the schemaMap exported for applications.
# Everything it writes goes under .dev/demo; the servers stop when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
root=$PWD
csfle="$root/bin/csfle"
work="$root/.dev/demo"
rm -rf "$work"
mkdir -p "$work"

"$root/bin/csfle-dev" -dir "$work/env" -env-file "$work/env.sh" >"$work/dev.log" 2>&1 &
dev_pid=$!
trap 'kill $dev_pid 2>/dev/null; wait $dev_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  [ -s "$work/env.sh" ] && break
  kill -0 $dev_pid 2>/dev/null || { cat "$work/dev.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/env.sh" ] || { echo "the development environment did not start; see $work/dev.log" >&2; exit 1; }
# shellcheck disable=SC1091
source "$work/env.sh"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Quickstart: plan and apply two data keys under a local master key"
mkdir -p "$work/quickstart"
cp examples/quickstart/main.csfle.hcl "$work/quickstart/"
head -c 96 /dev/urandom | base64 -w0 >"$work/quickstart/master-key.txt"
"$csfle" -chdir "$work/quickstart" plan -out plan.bin
"$csfle" -chdir "$work/quickstart" apply plan.bin
"$csfle" -chdir "$work/quickstart" output

step "Migration, stage 1: keys under a local master key"
mkdir -p "$work/migration"
cp examples/local-to-aws/1-local/main.csfle.hcl "$work/migration/"
head -c 96 /dev/urandom | base64 -w0 >"$work/migration/master-key.txt"
"$csfle" -chdir "$work/migration" apply -auto-approve

step "Migration, stage 2: the same keys under the AWS KMS key $CSFLE_DEV_AWS_KEY_ARN"
cp examples/local-to-aws/2-aws/main.csfle.hcl "$work/migration/main.csfle.hcl"
"$csfle" -chdir "$work/migration" plan -var "cmk_arn=$CSFLE_DEV_AWS_KEY_ARN"
"$csfle" -chdir "$work/migration" apply -auto-approve -var "cmk_arn=$CSFLE_DEV_AWS_KEY_ARN"

step "A second plan finds nothing to do"
"$csfle" -chdir "$work/migration" plan -detailed-exitcode -var "cmk_arn=$CSFLE_DEV_AWS_KEY_ARN"
"$csfle" -chdir "$work/migration" output

step "Encrypted collections: a key replaced the guide's way (examples/replace-key)"
mkdir -p "$work/replace-key"
head -c 96 /dev/urandom | base64 -w0 >"$work/replace-key/master-key.txt"
cp examples/replace-key/1-before/main.csfle.hcl "$work/replace-key/"
"$csfle" -chdir "$work/replace-key" apply -auto-approve
cp examples/replace-key/2-new-key/main.csfle.hcl "$work/replace-key/"
"$csfle" -chdir "$work/replace-key" apply -auto-approve
"$csfle" -chdir "$work/replace-key" output
"$csfle" -chdir "$work/replace-key" schema export -schema-map schema-map.json
cat "$work/replace-key/schema-map.json"

step "Done. The configurations, state files and saved plan are in $work"
