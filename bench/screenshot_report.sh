#!/usr/bin/env bash
# Screenshot a rendered report in headless Chromium (Debian's `chromium` package), to check that it
# renders offline: bash bench/screenshot_report.sh runs/demo/sweep/report.html report.png
set -euo pipefail
html=$(realpath "$1"); png=${2:-report.png}
command -v chromium >/dev/null || { apt-get update -q && apt-get install -y -q chromium; }
profile=$(mktemp -d)
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
  --window-size=1280,2400 --screenshot="$png" "file://$html" 2>/dev/null
rm -rf "$profile"
echo "$png"
