#!/usr/bin/env bash
# What WeasyPrint needs to draw credit reports as PDF: Pango (text layout) and Debian's Noto CJK
# fonts (Chinese on the page). Installed with apt when missing and we are root. Without them the
# registry still serves, but `?format=pdf` and /reports/{id}.pdf fail: with REQUIRE_PDF=1 (the
# image build) that is fatal, else a warning.
set -euo pipefail
missing=()
for package in libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if ! "$(dirname "$0")/apt-install.sh" "${missing[@]}"; then
    echo "ensure-pdf: ${missing[*]} missing; credit report PDFs will fail" >&2
    if [ "${REQUIRE_PDF:-}" = 1 ]; then exit 1; fi
fi
