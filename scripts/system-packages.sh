#!/usr/bin/env bash
# Debian packages the test suite and benchmarks drive as real peers: headless Chromium for the web
# pages, libvips-tools for the `vipsthumbnail` reference of the photo benchmark.
# Installed on first run when missing; needs root (CI and the project's machines run as root).
set -euo pipefail
PACKAGES=(chromium libvips-tools)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "The tests need these Debian packages: ${missing[*]}. Install them as root (apt-get install ${missing[*]})." >&2
  exit 1
fi
echo "==> installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
