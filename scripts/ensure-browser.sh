#!/usr/bin/env bash
# Debian's Chromium (and CJK fonts for readable screenshots) for the browser tests. Installed with
# apt when missing and we are root; Playwright drives it and never downloads a browser of its own.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
"$(dirname "$0")/apt-install.sh" chromium fonts-noto-cjk || \
    echo "ensure-browser: /usr/bin/chromium is missing; browser tests will skip" >&2
