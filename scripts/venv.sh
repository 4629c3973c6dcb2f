#!/usr/bin/env bash
# Create (or reuse) the repo's .venv and install clobkit with the given extras.
#
#   scripts/venv.sh notebooks        # what the course needs
#   scripts/venv.sh test             # what the test suite needs
#
# Idempotent: a second run reuses .venv and skips pip when neither the extras
# nor pyproject.toml changed since the last successful install (a stamp file
# in .venv records both).
set -euo pipefail
cd "$(dirname "$0")/.."

extras="${1:-notebooks}"
venv=.venv

pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3 python; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "clobkit needs Python >= 3.11 with venv; set PYTHON=/path/to/python3.11" >&2
  return 1
}

if [ ! -x "$venv/bin/python" ]; then
  py=$(pick_python)
  echo "==> creating $venv with $py ($("$py" -V 2>&1))"
  "$py" -m venv "$venv"
fi

stamp="$venv/.clobkit-installed-$extras"
want="$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "==> $venv is up to date for [$extras]"
  exit 0
fi

echo "==> installing clobkit[$extras] into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
echo "$want" > "$stamp"
