#!/usr/bin/env bash
# Debian packages gongkai uses outside Python: chromium (PDF, chart images, browser tests) and CJK
# fonts (fonts-noto-cjk for screens, fonts-wqy-zenhei so PDF text extracts as the right characters).
# Installs what is missing when run as root with apt-get; elsewhere says what to install and goes on.
set -uo pipefail
packages=(make chromium fonts-noto-cjk fonts-wqy-zenhei fontconfig)
missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null && exit 0
  echo "system-packages: apt-get could not install ${missing[*]}" >&2
  exit 1
fi
echo "note: PDF/Word reports and browser tests need: sudo apt-get install ${missing[*]}" >&2
exit 0
