#!/usr/bin/env bash
# Makes sure this machine can build csfle: Go, a C compiler, pkg-config and
# libmongocrypt (client-side encryption is done by libmongocrypt through cgo),
# and, with --test, on Debian python3-pykmip for the tests' KMIP server.
# Installs what is missing with apt-get when it can; otherwise says exactly
# what to install.
set -euo pipefail

missing=()
command -v go >/dev/null 2>&1 || {
  echo "csfle needs Go 1.26 or newer: https://go.dev/doc/install (then put go on PATH)" >&2
  exit 1
}
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists libmongocrypt 2>/dev/null || missing+=(libmongocrypt-dev)
# PyKMIP's server, which the KMIP tests run (devenv.StartKMIP) under Debian's
# /usr/bin/python3. Only the tests need it; elsewhere than on Debian, they
# fail saying what to install.
if [ "${1:-}" = "--test" ] && command -v dpkg-query >/dev/null 2>&1 &&
  ! dpkg-query -W -f='${Status}' python3-pykmip 2>/dev/null | grep -q 'ok installed'; then
  missing+=(python3-pykmip)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "csfle needs: ${missing[*]} (libmongocrypt 1.7 or newer with its pkg-config file). Install them with your package manager." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "csfle needs these Debian packages: ${missing[*]}. As root, run: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
echo "Installing ${missing[*]} with apt-get..." >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
pkg-config --exists libmongocrypt || {
  echo "libmongocrypt-dev was installed but pkg-config cannot find libmongocrypt" >&2
  exit 1
}
