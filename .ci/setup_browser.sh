#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser tests (tests/browser/, driven by
# npm:puppeteer-core, which downloads no browser of its own). Idempotent and quiet; safe to run on
# a developer machine (needs root or sudo for apt-get).
set -euo pipefail
# shellcheck source=apt_install.sh
source "$(dirname "$0")/apt_install.sh"

# fonts-liberation is only a recommendation of chromium's; without a font the screenshot
# (docs/dashboard.png) would show boxes.
packages=(chromium fonts-liberation)
apt_install setup_browser "${packages[@]}"
test -x /usr/bin/chromium
echo "setup_browser: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
