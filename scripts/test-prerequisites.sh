#!/usr/bin/env bash
# Run by `npm test` (as its pretest step): the tools the test suite needs besides npm packages.
# - protoc (Debian: protobuf-compiler): the independent decoder of our protobuf payloads;
#   installed with apt-get when it is missing and we may (root with apt-get), else explained.
# - Go: the end-to-end tests build the OpenTelemetry Collector from Go modules (scripts/build-collector.sh).
set -euo pipefail

if ! command -v protoc >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "test prerequisites: installing protobuf-compiler (protoc) with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq protobuf-compiler >/dev/null
  else
    echo "test prerequisites: protoc is missing; install it (Debian/Ubuntu: apt-get install protobuf-compiler, macOS: brew install protobuf)" >&2
    exit 1
  fi
fi
command -v go >/dev/null || {
  echo "test prerequisites: go is missing; the end-to-end tests build the OpenTelemetry Collector from Go modules (https://go.dev/dl/)" >&2
  exit 1
}
