#!/usr/bin/env bash
# Run by `npm test` (as its pretest step): the tools the full test suite needs besides npm packages.
# - protoc (Debian: protobuf-compiler): the independent decoder of our protobuf payloads.
# - Go: the end-to-end tests build the OpenTelemetry Collector and Jaeger from Go modules
#   (scripts/build-collector.sh, scripts/build-jaeger.sh).
# - chromium (optional): the viewer's browser tests skip themselves without it, and say so here.
# It never installs anything without saying so first: a missing protoc is installed with apt-get only
# when the user answers yes at the prompt, or when INSTALL_TEST_PREREQUISITES=yes (or CI=true) says
# so up front, and only as root on a system with apt-get. `npm run test:unit` needs neither tool.
set -euo pipefail

UNIT_HINT="(npm run test:unit runs the suites that need neither protoc nor Go)"

install_protoc() {
  echo "test prerequisites: installing protobuf-compiler (protoc) with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq protobuf-compiler >/dev/null
}

if ! command -v protoc >/dev/null; then
  can_apt=false
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then can_apt=true; fi
  echo "test prerequisites: protoc is missing; the encoder tests decode our payloads with it." >&2
  if $can_apt && [[ ${INSTALL_TEST_PREREQUISITES:-} == yes || ${CI:-} == true ]]; then
    install_protoc
  elif $can_apt && [[ -t 0 && -t 2 ]]; then
    read -r -p "test prerequisites: install Debian's protobuf-compiler with apt-get now? [y/N] " answer
    if [[ $answer == [yY]* ]]; then
      install_protoc
    else
      echo "test prerequisites: not installed; install protoc yourself, or run npm run test:unit" >&2
      exit 1
    fi
  else
    echo "test prerequisites: install it (Debian/Ubuntu: apt-get install protobuf-compiler, macOS: brew install protobuf)," >&2
    if $can_apt; then echo "  or let this script do it: INSTALL_TEST_PREREQUISITES=yes npm test" >&2; fi
    echo "  $UNIT_HINT" >&2
    exit 1
  fi
fi
command -v go >/dev/null || {
  echo "test prerequisites: go is missing; the end-to-end tests build the OpenTelemetry Collector from Go modules (https://go.dev/dl/)" >&2
  echo "  $UNIT_HINT" >&2
  exit 1
}
if ! command -v chromium >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null && [[ ${INSTALL_TEST_PREREQUISITES:-} == yes || ${CI:-} == true ]]; then
    echo "test prerequisites: installing chromium with apt-get (the viewer's browser tests)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
  else
    echo "test prerequisites: chromium is missing; the viewer's browser tests will be skipped" >&2
    echo "  (Debian/Ubuntu: apt-get install chromium, or INSTALL_TEST_PREREQUISITES=yes npm test as root)" >&2
  fi
fi
