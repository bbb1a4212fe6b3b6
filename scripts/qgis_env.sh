#!/usr/bin/env bash
# Source this: a throwaway QGIS profile with this checkout linked in as the plugin `sar_change`.
# Sets QGIS_PLUGINPATH, QGIS_CUSTOM_CONFIG_PATH and QT_QPA_PLATFORM, and enables the plugin
# for qgis_process.bin (/usr/bin/qgis_process is broken by /etc/default/qgis on Debian).
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SARCHANGE_QGIS_HOME="$(mktemp -d "${TMPDIR:-/tmp}/sarchange-qgis.XXXXXX")"
mkdir -p "$SARCHANGE_QGIS_HOME/plugins" "$SARCHANGE_QGIS_HOME/profile"
ln -s "$repo_root" "$SARCHANGE_QGIS_HOME/plugins/sar_change"
export QGIS_PLUGINPATH="$SARCHANGE_QGIS_HOME/plugins"
export QGIS_CUSTOM_CONFIG_PATH="$SARCHANGE_QGIS_HOME/profile"
export QT_QPA_PLATFORM=offscreen
export XDG_RUNTIME_DIR="$SARCHANGE_QGIS_HOME/runtime"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
qgis_process.bin plugins enable sar_change >/dev/null 2>&1 || {
  echo "could not enable the plugin sar_change in qgis_process.bin" >&2
  qgis_process.bin plugins enable sar_change >&2
}
