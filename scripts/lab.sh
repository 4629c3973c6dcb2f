#!/usr/bin/env bash
# Set up the environment and open the clobkit course in JupyterLab.
# JupyterLab listens on 127.0.0.1 only, with token authentication left on;
# it prints the URL (with its token) to open in a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh notebooks
start=notebooks/00_tour.ipynb
[ -f "$start" ] || start=notebooks
extra=()
[ "$(id -u)" = "0" ] && extra+=(--allow-root)
echo "==> opening $start (Ctrl+C twice to stop)"
exec .venv/bin/python -m jupyter lab --ip=127.0.0.1 --no-browser "${extra[@]}" \
  --ServerApp.root_dir="$PWD" "$start"
