#!/usr/bin/env bash
# wrk, the load generator the benchmarks use, from Debian's packages when missing.
set -euo pipefail
command -v wrk >/dev/null 2>&1 || "$(dirname "$0")/apt-install.sh" wrk
