#!/usr/bin/env bash
# Install SR Workbench on Debian/Ubuntu (Python >= 3.11): the system libraries Qt needs (only
# those missing), then a fresh virtual environment .venv with this checkout pip-installed in it
# (the `srw` and `srw-gui` commands; dependencies from pyproject.toml, nothing else). Safe to
# re-run: .venv is made anew each time, so a dependency missing from pyproject.toml fails here
# and in the tests, never hidden by an earlier install.
#   bash setup.sh           runtime (the app):  .venv/bin/srw
#   bash setup.sh --test    runtime + test tools: .venv/bin/python -m pytest
#   bash setup.sh --cluster runtime + Ray (--executor ray)
#   SRW_VENV=DIR            another place for the environment
set -euo pipefail
cd "$(dirname "$0")"

# Qt's xcb platform and offscreen rendering need these shared libraries (libusb: Open3D).
APT_PKGS="libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1
libxcb-cursor0 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0
libdbus-1-3 libfontconfig1 libglib2.0-0 libusb-1.0-0"

# Debian's python3 makes virtual environments only with python3-venv (ensurepip)
python3 -c "import ensurepip" 2>/dev/null || APT_PKGS="$APT_PKGS python3-venv"

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

target="."
[ "${1:-}" = "--test" ] && target=".[test]"       # the test tools (and Ray: the scale-out tests)
[ "${1:-}" = "--cluster" ] && target=".[cluster]" # Ray, for --executor ray (README "Scale out")
venv="${SRW_VENV:-.venv}"
python3 -m venv --clear "$venv"
# not editable: the tests run the checkout's code, the commands run what a user's wheel holds
"$venv/bin/python" -m pip install -q --disable-pip-version-check "$target"
echo "setup: installed into $venv (run: $venv/bin/srw)" >&2
