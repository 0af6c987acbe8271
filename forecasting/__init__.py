"""Forecasting core: candidate models, accuracy metrics, rolling-origin selection.

Importable without Streamlit: batch jobs and the `python -m forecasting.backtest` command
use it directly.
"""
