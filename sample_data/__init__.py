"""Deterministic generator of a realistic plant network (see `generate`).

Twelve template plants in North America, Europe and Southeast Asia (3 with sensors, 5 with
an MES, 4 on spreadsheets), each with its own time zone, shifts, maintenance workflow,
language and naming conventions; larger networks repeat the templates at nearby sites.
Command line: `python -m sample_data --help`.
"""

from sample_data.load import generate

__all__ = ["generate"]
