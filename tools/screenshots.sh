#!/usr/bin/env bash
# Screenshots of the real window on a real X server (Xvfb + openbox) at the README's sizes:
# 1366x768, 1920x1080 and 2560x1440 at 2x scale. Needs Debian's xvfb, openbox, xdotool, imagemagick.
set -euo pipefail
cd "$(dirname "$0")/.."
shoot() {  # tag width height scale
  local display=:97
  Xvfb $display -screen 0 "${2}x${3}x24" -nolisten tcp & local xvfb=$!
  sleep 1
  DISPLAY=$display openbox & local wm=$!
  sleep 1
  DISPLAY=$display QT_QPA_PLATFORM=xcb QT_SCALE_FACTOR="$4" python tools/screenshots.py "$1" "${@:5}" || true
  kill $wm $xvfb 2>/dev/null || true
  wait $xvfb 2>/dev/null || true
}
shoot 1366x768 1366 768 1
shoot 1920x1080 1920 1080 1
shoot 2560x1440-2x 2560 1440 2 --workspaces Overview,Backprop,Why
