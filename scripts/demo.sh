#!/usr/bin/env bash
# The main pipeline on the built-in simulated scene pair, through qgis_process.bin.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo_root/demo-output}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# shellcheck source=qgis_env.sh
source "$repo_root/scripts/qgis_env.sh"
trap 'rm -rf "$SARCHANGE_QGIS_HOME"' EXIT

run() {
  echo "+ qgis_process.bin run $*"
  qgis_process.bin run "$@" 2>&1 | grep -v -E "XDG_RUNTIME_DIR|setapi|^$" | sed 's/^/    /'
  return "${PIPESTATUS[0]}"
}

run sarchange:simulatepair -- ROWS=512 COLS=512 LOOKS=1 SEED=0 \
  OUTPUT_BEFORE="$out/before.tif" OUTPUT_AFTER="$out/after.tif" OUTPUT_TRUTH="$out/truth.tif"
run sarchange:despeckle -- INPUT="$out/before.tif" METHOD=lee WINDOW=7 LOOKS=1 OUTPUT="$out/before_lee.tif"
run sarchange:despeckle -- INPUT="$out/after.tif" METHOD=lee WINDOW=7 LOOKS=1 OUTPUT="$out/after_lee.tif"
run sarchange:overlay -- BEFORE="$out/before_lee.tif" AFTER="$out/after_lee.tif" TOLERANCE=45 \
  SCALING=percentile OUTPUT="$out/overlay.tif"
# The likelihood-ratio test reads the original intensities (it knows their distribution);
# DESPECKLE=lee smooths what it segments.
run sarchange:changedetection -- BEFORE="$out/before.tif" AFTER="$out/after.tif" METHOD=likelihood_ratio \
  DESPECKLE=refined_lee LOOKS=1 ALPHA=0.01 MIN_AREA=2000 OUTPUT="$out/change.gpkg" \
  OUTPUT_RASTER="$out/change.tif" OUTPUT_HTML="$out/change_report.html"

echo
echo "Demo outputs written to $out:"
for f in before.tif after.tif truth.tif before_lee.tif after_lee.tif overlay.tif change.gpkg change.tif \
  change_report.html; do
  [ -s "$out/$f" ] || { echo "missing output: $out/$f" >&2; exit 1; }
  echo "  $out/$f"
done
/usr/bin/python3 "$repo_root/scripts/demo_summary.py" "$out"
