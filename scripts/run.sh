#!/usr/bin/env bash
# Install the app and run it with its worker on the embedded SQLite warehouse: bash scripts/run.sh
# The first start generates the sample network (data/warehouse.db); the worker then computes the
# forecasts, risk scores and recommendations while the pages show how far along it is.
# Ctrl-C stops both. Extra arguments go to streamlit.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt
.venv/bin/python -m jobs.worker &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null; wait "$worker" 2>/dev/null' EXIT
.venv/bin/python -m streamlit run app.py "$@"
