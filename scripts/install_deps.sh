#!/usr/bin/env bash
# Install what SAR Change Toolkit needs on Debian 12 / Ubuntu, only what is missing.
# QGIS (with PyQGIS and GDAL) and the science libraries all come from the distribution.
set -euo pipefail

PY=/usr/bin/python3
need=()
have_module() { [ -x "$PY" ] && "$PY" -c "import $1" >/dev/null 2>&1; }

command -v qgis_process.bin >/dev/null 2>&1 || need+=(qgis qgis-providers)
have_module qgis.core || need+=(python3-qgis)
have_module osgeo.gdal || need+=(python3-gdal)
have_module numpy || need+=(python3-numpy)
have_module scipy || need+=(python3-scipy)
have_module skimage || need+=(python3-skimage)
have_module sklearn || need+=(python3-sklearn)
have_module cv2 || need+=(python3-opencv)
have_module fiona || need+=(python3-fiona)
have_module requests || need+=(python3-requests)
have_module pytest || need+=(python3-pytest)
have_module hypothesis || need+=(python3-hypothesis)
have_module distributed || need+=(python3-dask python3-distributed)  # optional for users; the cluster tests need it
command -v xvfb-run >/dev/null 2>&1 || need+=(xvfb)
if [ "${WITH_OTB:-0}" = 1 ]; then command -v otbcli_Despeckle >/dev/null 2>&1 || need+=(otb-bin); fi

if [ ${#need[@]} -eq 0 ]; then
  echo "install_deps: everything needed is installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
echo "install_deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
