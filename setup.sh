#!/usr/bin/env bash
# Install everything SR Workbench needs on Debian/Ubuntu (Python >= 3.11). Safe to re-run:
# system packages are installed only when missing.
#   bash setup.sh           runtime (the app)
#   bash setup.sh --test    runtime + test tools
set -euo pipefail
cd "$(dirname "$0")"

# Qt's xcb platform and offscreen rendering need these shared libraries (libusb: Open3D).
APT_PKGS="libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1
libxcb-cursor0 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0
libdbus-1-3 libfontconfig1 libglib2.0-0 libusb-1.0-0"

if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  missing=""
  for p in $APT_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing system packages:$missing" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

req=requirements.txt
[ "${1:-}" = "--test" ] && req=requirements-test.txt
python3 -m pip install -q --disable-pip-version-check -r "$req"
