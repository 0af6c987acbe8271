"""A recommendation's evidence and proposed action in plain words (issue 19): labels instead of
field names, units and the reference currency, times in the plant's zone with UTC beside them.

Known fields have a label and a unit below; any other field is still readable: its name loses
the underscores and its suffix (`_utc`, `_day`, `_days`, `_hours`, `_h`, `cost`, `rate`) decides
how the value is written, so a field added to the evidence later never shows raw.
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from data_access.kpis import REFERENCE_CURRENCY

LABELS = {
    "rule": "Raised by the rule",
    "asset_class": "Asset class",
    "criticality": "Criticality",
    "asset_name": "Asset",
    "asset_local_code": "Asset code at the plant",
    "asset_id": "Asset code",
    "line_id": "Line code",
    "line_name": "Line",
    "hazard": "Failure probability within the horizon",
    "horizon_days": "Horizon",
    "weibull_shape": "Weibull shape (wear-out above 1)",
    "mtbf_days": "Mean time between failures",
    "mtbf_basis": "MTBF taken from",
    "failures_in_lookback": "Failures in the record",
    "observed_days": "Days of record",
    "mttr_hours": "Mean repair time",
    "last_repair_utc": "Last repair",
    "days_since_repair": "Since the last repair",
    "health.score": "Sensor health score",
    "health.vibration_ratio": "Vibration against its baseline",
    "health.vibration_baseline_mm_s": "Vibration, baseline",
    "health.vibration_recent_mm_s": "Vibration, recent",
    "health.temperature_rise_c": "Temperature rise",
    "health.baseline_days": "Baseline days",
    "health.last_reading_day": "Last sensor reading",
    "risk": "Risk score",
    "source": "Scored by",
    "parts_check": "Spare parts",
    "schedule_impact_qty": "Quantity planned in the repair window",
    "cost_breakdown.parts": "Cost of parts",
    "cost_breakdown.labour": "Cost of labour",
    "cost_breakdown.labour_rate_per_hour": "Labour rate",
    "cost_breakdown.repair_hours": "Repair time",
    "priority": "Priority",
    "work_type": "Work type",
    "requested_start_utc": "Requested start",
    "repair_hours": "Repair time",
    "material_id": "Material",
    "material_name": "Material",
    "supplier_id": "Supplier",
    "qty": "Quantity",
    "unit": "Unit",
    "need_by_day": "Needed by",
    "disposition": "Disposition",
    "scenario_id": "Scenario",
    "scenario_name": "Scenario",
    "sizing": "Sized by",
}
PERCENT = {"hazard", "risk", "health.score"}
UNITS = {
    "health.vibration_ratio": "x",
    "health.vibration_baseline_mm_s": "mm/s",
    "health.vibration_recent_mm_s": "mm/s",
    "health.temperature_rise_c": "°C",
    "weibull_shape": "",
}
WORDS = {
    "health_trend": "sensor health trend",
    "fallback_rule": "a threshold rule (no model score yet)",
    "model": "the approved model",
    "preventive_repair": "preventive repair",
    "asset": "this asset's record",
    "class": "its asset class's record",
}
TIME_FORMAT = "%a %d %b %Y %H:%M %Z"
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def label(name: str) -> str:
    """'cost_breakdown.labour_rate_per_hour' -> its label, else 'Labour rate per hour'."""
    if name in LABELS:
        return LABELS[name]
    last = name.rsplit(".", 1)[-1]
    if last in LABELS:
        return LABELS[last]
    words = re.sub(r"_(utc|day|days|hours|h|d)$", "", last).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def local_time(value, zone: str) -> tuple[str, str]:
    """(plant time, UTC) of a timestamp, to the minute: ('Wed 01 Jul 2026 03:00 CDT', '2026-07-01 08:00 UTC')."""
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        return "n/a", ""
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    here = stamp.tz_convert(ZoneInfo(zone))
    return here.strftime(TIME_FORMAT), stamp.strftime("%Y-%m-%d %H:%M UTC")


def _number(value: float) -> str:
    return (
        f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
    )


def reading(name: str, value, zone: str) -> tuple[str, str]:
    """(value in words, UTC or '') of one field: units, currency, plant-local times."""
    last = name.rsplit(".", 1)[-1]
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "n/a", ""
    if isinstance(value, str) and (last.endswith("_utc") or ISO_TIME.match(value)):
        return local_time(value, zone)
    if isinstance(value, bool):
        return ("yes" if value else "no"), ""
    if isinstance(value, (int, float)):
        if name in PERCENT:
            return f"{value:.0%}", ""
        if name in UNITS:
            return f"{_number(value)} {UNITS[name]}".strip(), ""
        if last.endswith(("_days", "_d")) or last == "days_since_repair":
            return f"{_number(value)} d", ""
        if last.endswith(("_hours", "_h")):
            return f"{_number(value)} h", ""
        if "cost" in name or last.endswith(("_rate_per_hour", "price")):
            suffix = "/h" if last.endswith("per_hour") else ""
            return f"{value:,.2f} {REFERENCE_CURRENCY}{suffix}", ""
        return _number(value), ""
    if isinstance(value, list):
        parts = [reading(name, v, zone) for v in value]
        return " to ".join(p[0] for p in parts) if last.endswith("window_utc") else ", ".join(
            p[0] for p in parts
        ), " to ".join(p[1] for p in parts if p[1])
    return WORDS.get(str(value), str(value).replace("..", " to ")), ""


def readings(fields: dict, zone: str, skip=()) -> pd.DataFrame:
    """Scalar fields (nested ones flattened) as rows: reading, value, utc (times only). Lists of
    records (spare parts, orders, parts of an action) are left to `record_tables`."""
    rows = []

    def walk(name, value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{name}.{k}", v)
        elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
            return
        else:
            rows.append((label(name), *reading(name, value, zone)))

    for key, value in fields.items():
        if key not in skip:
            walk(key, value)
    return pd.DataFrame(rows, columns=["reading", "value", "utc"])


def in_plant_time(frame: pd.DataFrame, zone: str) -> pd.DataFrame:
    """The frame with its `*_utc` columns as plant-local text to the minute (names kept, so a
    page's column settings still apply; the export keeps the UTC originals)."""
    frame = frame.copy()
    for column in [c for c in frame.columns if c.endswith("_utc")]:
        frame[column] = [local_time(v, zone)[0] for v in frame[column]]
    return frame


def record_table(records, zone: str) -> pd.DataFrame:
    """A list of records (e.g. the parts of a proposed action) with readable column names."""
    frame = in_plant_time(pd.DataFrame(records or []), zone)
    return frame.rename(columns={c: label(c) for c in frame.columns})


def sla_text(due, now: datetime) -> str:
    """'23 h left' or 'passed 6 h ago' (days past 48 h): short enough for a tile."""
    if due is None or pd.isna(due):
        return "none"
    hours = (pd.Timestamp(due) - pd.Timestamp(now)).total_seconds() / 3600
    amount = f"{abs(hours) / 24:.0f} d" if abs(hours) >= 48 else f"{abs(hours):.0f} h"
    return f"{amount} left" if hours > 0 else f"passed {amount} ago"
