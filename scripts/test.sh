#!/usr/bin/env bash
# Runs the whole test suite: installs what the build needs, vets, checks
# formatting, and runs every test with the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet -tags cse ./...
go test -tags cse -race -count=1 -timeout 20m "$@" ./...
