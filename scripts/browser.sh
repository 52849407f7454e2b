#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser tests (Playwright drives /usr/bin/chromium;
# it never downloads a browser of its own). Installs the package when missing and apt-get is usable.
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "Installing Chromium for the browser tests (apt-get install chromium)..."
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  fi
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "error: Chromium is not installed at $CHROMIUM and could not be installed." >&2
  echo "       Install it (apt-get install chromium) or set CHROMIUM to its path." >&2
  exit 1
fi
