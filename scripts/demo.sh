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
run sarchange:todb -- INPUT="$out/before.tif" DIRECTION=to_db OUTPUT="$out/before_db.tif"
run sarchange:todb -- INPUT="$out/after.tif" DIRECTION=to_db OUTPUT="$out/after_db.tif"
run sarchange:overlay -- BEFORE="$out/before.tif" AFTER="$out/after.tif" TOLERANCE=30 \
  SCALING=percentile OUTPUT="$out/overlay.tif"

echo
echo "Demo outputs written to $out:"
for f in before.tif after.tif truth.tif before_db.tif after_db.tif overlay.tif; do
  [ -s "$out/$f" ] || { echo "missing output: $out/$f" >&2; exit 1; }
  printf '  %-16s %s\n' "$f" "$(gdalinfo "$out/$f" 2>/dev/null | grep -m1 'Size is' || echo written)"
done
