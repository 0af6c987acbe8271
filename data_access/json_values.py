"""JSON-ready values for JSON columns: what is stored equals what reads back."""

import json
import math
from datetime import date, datetime


def json_ready(value, strict: bool = True):
    """`value` as it reads back from a JSON column: dicts with text keys, lists, numbers, text,
    booleans and null (NaN and infinities become null; tuples, numpy values and arrays become
    lists and numbers; dates ISO text). Anything else raises TypeError, or with `strict=False`
    becomes its text (for evidence and payloads that must be written whatever they hold)."""

    def fix(v):
        if v is None or isinstance(v, (bool, str, int)):
            return v
        if isinstance(v, float):
            return v if math.isfinite(v) else None
        if isinstance(v, dict):
            return {str(k): fix(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [fix(x) for x in v]
        if isinstance(v, (datetime, date)):
            return v.isoformat()
        if hasattr(v, "tolist"):  # numpy scalars and arrays
            return fix(v.tolist())
        if not strict:
            return str(v)
        raise TypeError(f"{type(v).__name__} cannot be stored as JSON: {str(v)[:60]!r}")

    return json.loads(json.dumps(fix(value), allow_nan=False))
