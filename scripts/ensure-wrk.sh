#!/usr/bin/env bash
# wrk, the load generator the benchmarks use, from Debian's packages when missing.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-wrk: wrk is missing and cannot be installed here (apt-get install wrk)" >&2
    exit 1
fi
echo "ensure-wrk: installing wrk" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq wrk >/dev/null
