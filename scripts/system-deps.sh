#!/usr/bin/env bash
# Install what the suite needs from Debian's registry: Chromium, for the
# real-browser tests (Playwright drives /usr/bin/chromium; we never run
# `playwright install`). As root we use apt-get; otherwise sudo if it works
# without a password; otherwise we say so, and the browser tests skip with
# that reason.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "==> cannot install chromium (not root, no passwordless sudo): browser tests will be skipped" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "==> no apt-get: install Chromium at /usr/bin/chromium yourself; browser tests will be skipped" >&2
  exit 0
fi
echo "==> installing Debian's chromium for the browser tests"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
