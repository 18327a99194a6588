#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser tests (tests/browser/, driven by
# npm:puppeteer-core, which downloads no browser of its own). Idempotent and quiet; safe to run on
# a developer machine (needs root or sudo for apt-get).
set -euo pipefail

# fonts-liberation is only a recommendation of chromium's; without a font the screenshot
# (docs/dashboard.png) would show boxes.
packages=(chromium fonts-liberation)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup_browser: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
test -x /usr/bin/chromium
echo "setup_browser: $(/usr/bin/chromium --version 2>/dev/null | head -n 1)"
