#!/usr/bin/env bash
# Real QGIS screenshots for the README: QGIS under Xvfb with the demo outputs loaded and styled.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo_root/docs/screenshots}"
demo="$repo_root/demo-output"
command -v xvfb-run >/dev/null || { echo "xvfb-run not found: apt-get install xvfb" >&2; exit 1; }
[ -s "$demo/change.gpkg" ] || bash "$repo_root/scripts/demo.sh" "$demo" >/dev/null
mkdir -p "$out"
# shellcheck source=qgis_env.sh
source "$repo_root/scripts/qgis_env.sh"
trap 'rm -rf "$SARCHANGE_QGIS_HOME"' EXIT
unset QT_QPA_PLATFORM  # a real (virtual) screen
export SARCHANGE_SCREENSHOTS="$out" SARCHANGE_DEMO="$demo"
timeout 120 xvfb-run -a -s "-screen 0 1400x900x24" qgis --nologo --noversioncheck \
  --code "$repo_root/scripts/screenshot_qgis.py" >/dev/null 2>&1 || true
for f in qgis_change_polygons.png map_change_over_overlay.png dialog_tellus_account.png dialog_changedetection.png; do
  [ -s "$out/$f" ] || { echo "screenshot not written: $out/$f" >&2; exit 1; }
  echo "$out/$f"
done
