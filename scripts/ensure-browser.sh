#!/usr/bin/env bash
# Debian's Chromium (and CJK fonts for readable screenshots) for the browser tests. Installed with
# apt when missing and we are root; Playwright drives it and never downloads a browser of its own.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure-browser: /usr/bin/chromium is missing and cannot be installed here; browser tests will skip" >&2
    exit 0
fi
echo "ensure-browser: installing chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
