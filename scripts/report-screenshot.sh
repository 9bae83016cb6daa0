#!/usr/bin/env bash
# Renders a report as a person would see it: headless Chromium (Debian's 'chromium') loads report.html from
# disk with networking off, and saves a full-width screenshot to look at.
#
#   scripts/report-screenshot.sh RUN_DIR [OUT.png] [HEIGHT]
#
# RUN_DIR: an experiment's output folder (or a run folder) holding report.html ('hmmrnn report RUN_DIR' writes it).
# OUT.png: where the screenshot goes (default RUN_DIR/report-screenshot.png); HEIGHT: pixels (default 6000).
set -euo pipefail
run=${1:?usage: scripts/report-screenshot.sh RUN_DIR [OUT.png] [HEIGHT]}
html=$(cd "$run" && pwd)/report.html
[ -f "$html" ] || { echo "report-screenshot: $html not found; run 'hmmrnn report $run' first" >&2; exit 2; }
out=${2:-$run/report-screenshot.png}
height=${3:-6000}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "report-screenshot: no chromium found (apt-get install chromium)" >&2; exit 3; }
# --proxy-server pointing nowhere: a figure or style fetched from the network would be missing from the picture.
"$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --proxy-server=127.0.0.1:9 \
  --window-size=1200,"$height" --screenshot="$out" "file://$html" 2> /dev/null
echo "$out"
