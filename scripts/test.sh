#!/usr/bin/env bash
# Runs the whole test suite: installs what the build needs, vets, checks
# formatting, and runs every test with the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh --test
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet -tags cse ./...
if [ -z "${CSFLE_TEST_MONGODB_URI:-}" ]; then
  echo "note: CSFLE_TEST_MONGODB_URI is not set, so the tests that need a real MongoDB server (features FerretDB lacks, such as partial indexes) are skipped; set it to a mongodb:// URI to run them" >&2
fi
# Every package runs under the race detector except e2e: its tests drive
# separate csfle processes (built without it), and the development
# environment they run in-process is several times slower under it; the
# packages e2e exercises are raced through their own tests.
go test -tags cse -race -count=1 -timeout 20m "$@" $(go list ./... | grep -v '/e2e$')
go test -tags cse -count=1 -timeout 20m "$@" ./e2e
