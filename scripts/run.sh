#!/usr/bin/env bash
# Install the app and run it on the embedded SQLite warehouse: bash scripts/run.sh
# The first start creates data/warehouse.db and generates the sample network (progress bar).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt
exec .venv/bin/python -m streamlit run app.py "$@"
