#!/usr/bin/env bash
# apt-install.sh PACKAGE...: install Debian packages when we are root and apt exists; exit 3
# (saying why) when we cannot, so each caller decides whether that is fatal.
set -euo pipefail
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-install: cannot install $* here (not root, or no apt-get)" >&2
    exit 3
fi
echo "apt-install: installing $*" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "$@" >/dev/null
