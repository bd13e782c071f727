#!/usr/bin/env bash
# Builds bin/csfle and bin/csfle-dev. The cse build tag links libmongocrypt;
# without it the driver's encryption calls fail at run time, so every build
# goes through here (or make build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
mkdir -p bin
go build -tags cse -o bin/csfle ./cmd/csfle
go build -tags cse -o bin/csfle-dev ./cmd/csfle-dev
