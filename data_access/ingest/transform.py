"""Validate a chunk of raw rows against a mapping and turn the good ones into canonical rows.

Everything is vectorized over the chunk (pandas), so a million-row file costs seconds, not
minutes. A row is rejected with every reason that applies, in words that name the field,
the plant's column and the offending value. Rejections carry a category:

- `invalid`: the value is wrong (text in a number, an impossible date, end before start...)
- `unmapped`: only a local code nobody has mapped yet; it waits in the review list and the
  row loads on a re-try once the code is mapped
- `out_of_scope`: the row belongs to another plant
- `conflict` (set by the loader): the same natural key twice in a file with other values
"""

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select

from data_access.ingest.errors import IngestError
from data_access.ingest.mapping import Mapping
from data_access.ingest.sources import CODE_KIND_LABELS, REVIEWABLE, SOURCES, VOCABULARIES, SourceDef
from data_access.schema import asset, downtime_reason, line, material, plant, plant_material, supplier

CATEGORY_RANK = {"": 0, "unmapped": 1, "conflict": 2, "invalid": 3, "out_of_scope": 4}
MAX_SHOWN = 60  # characters of a value quoted in a reason
MAX_RAW = 1000  # characters of a raw value kept in quarantine
MAX_EVENT = timedelta(days=30)
EARLIEST = pd.Timestamp("1990-01-01", tz="UTC")
FUTURE_SLACK = timedelta(days=1)
FORMULA = r"^(?:[=@]|[+\-][A-Za-z=(@])"
FUTURE_OK = {"promised_day"}
_OFFSET = r"(?:Z|[+\-]\d\d:?\d\d)$"


@dataclass
class Context:
    """What a load needs to know about its plant, read once before the first chunk."""

    plant_id: str
    zone: str
    source: SourceDef
    mapping: Mapping
    now: pd.Timestamp
    lookups: dict = field(default_factory=dict)  # kind -> {local or canonical: canonical}
    folded: dict = field(default_factory=dict)  # kind -> {casefolded: canonical}
    canonical: dict = field(default_factory=dict)  # kind -> set of canonical values
    foreign_assets: dict = field(default_factory=dict)  # asset_id of another plant -> its plant
    asset_line: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)  # reason_code -> (category, is_failure)


def build_context(conn, plant_id: str, mapping: Mapping, now: pd.Timestamp) -> Context:
    """Read the plant's dimensions and check the mapping's codes against them."""
    p = conn.execute(select(plant.c.plant_id, plant.c.timezone)).all()
    zones = dict(p)
    if plant_id not in zones:
        raise IngestError(f"unknown plant {plant_id!r} (known: {', '.join(sorted(zones)) or 'none'})")
    zone = mapping.timezone or zones[plant_id]
    ctx = Context(plant_id, zone, SOURCES[mapping.source], mapping, now)
    names = dict(conn.execute(select(plant.c.name, plant.c.plant_id)).all())
    _add(ctx, "plant", {**{pid: pid for pid in zones}, **names})

    a = asset.c
    assets = conn.execute(select(a.asset_id, a.plant_id, a.line_id, a.local_code)).all()
    own = [r for r in assets if r.plant_id == plant_id]
    ctx.asset_line = {r.asset_id: r.line_id for r in own}
    ctx.foreign_assets = {r.asset_id: r.plant_id for r in assets if r.plant_id != plant_id}
    _add(ctx, "asset", {**{r.local_code: r.asset_id for r in own}, **{r.asset_id: r.asset_id for r in own}})

    lines = conn.execute(select(line.c.line_id, line.c.local_code).where(line.c.plant_id == plant_id)).all()
    _add(ctx, "line", {**{r.local_code: r.line_id for r in lines}, **{r.line_id: r.line_id for r in lines}})

    pm = conn.execute(
        select(plant_material.c.local_code, plant_material.c.material_id).where(plant_material.c.plant_id == plant_id)
    ).all()
    materials = conn.execute(select(material.c.material_id)).scalars().all()
    _add(ctx, "material", {**dict(pm), **{m: m for m in materials}})

    suppliers = conn.execute(select(supplier.c.supplier_id, supplier.c.name)).all()
    _add(
        ctx,
        "supplier",
        {**{r.name: r.supplier_id for r in suppliers}, **{r.supplier_id: r.supplier_id for r in suppliers}},
    )

    reasons = conn.execute(
        select(downtime_reason.c.reason_code, downtime_reason.c.category, downtime_reason.c.is_failure)
    ).all()
    ctx.reasons = {r.reason_code: (r.category, bool(r.is_failure)) for r in reasons}
    _add(ctx, "reason", {code: code for code in ctx.reasons})
    for kind, values in VOCABULARIES.items():
        _add(ctx, kind, {v: v for v in values})

    for kind, table in mapping.codes.items():
        for local, canonical in table.items():
            if canonical not in ctx.canonical[kind]:
                other = ctx.foreign_assets.get(canonical) if kind == "asset" else None
                where = (
                    f"belongs to plant {other}, not {plant_id}"
                    if other
                    else f"is not a known {CODE_KIND_LABELS[kind]}"
                    + (f" of plant {plant_id}" if kind in ("asset", "line") else "")
                )
                known = sorted(ctx.canonical[kind])
                raise IngestError(
                    f"mapping codes.{kind}: {local!r} maps to {canonical!r}, which {where}"
                    + (f" (known: {', '.join(known[:12])}{' ...' if len(known) > 12 else ''})" if not other else "")
                )
            ctx.lookups[kind][local] = canonical
            ctx.folded[kind].setdefault(local.strip().casefold(), canonical)
    return ctx


def _add(ctx: Context, kind: str, lookup: dict) -> None:
    lookup = {str(k).strip(): v for k, v in lookup.items() if k is not None}
    ctx.lookups[kind] = lookup
    folded = {}
    for k, v in lookup.items():
        folded.setdefault(k.casefold(), v)
    ctx.folded[kind] = folded
    ctx.canonical[kind] = set(lookup.values())


@dataclass
class Parsed:
    """One chunk after validation. `records` holds the canonical rows of the valid input rows
    (index: positions in the chunk) with `natural_key`, `row_hash` and `_day`; `reasons` and
    `category` are per input row ('' where valid)."""

    records: pd.DataFrame
    reasons: pd.Series
    category: pd.Series
    unmapped: dict  # (kind, local code) -> rows


class _Problems:
    def __init__(self, index):
        self.reasons = pd.Series("", index=index, dtype=object)
        self.category = pd.Series("", index=index, dtype=object)

    def add(self, mask, message, category="invalid"):
        mask = pd.Series(mask, index=self.reasons.index)
        if mask.dtype != bool:  # comparisons with a missing value give NA: not a problem
            mask = mask.astype("boolean").fillna(False).astype(bool)
        if not mask.any():
            return
        if callable(message):  # built only for the rows it applies to
            msg = message(mask)
        else:
            msg = message[mask] if isinstance(message, pd.Series) else message
        current = self.reasons[mask]
        self.reasons[mask] = np.where(current == "", msg, current + "; " + msg)
        rank = CATEGORY_RANK[category]
        worse = mask & (self.category.map(CATEGORY_RANK) < rank)
        self.category[worse] = category

    @property
    def bad(self) -> pd.Series:
        return self.reasons != ""


def _starts_with(text: pd.Series, chars: str) -> pd.Series:
    """Whether each value starts with one of `chars` (a plain loop beats the .str accessor)."""
    return pd.Series([v[:1] in chars and v != "" for v in text.to_numpy()], index=text.index, dtype=bool)


def shown(values: pd.Series) -> pd.Series:
    """Values as quoted in a reason: at most MAX_SHOWN characters, with their length beyond."""
    values = values.astype(str)
    long = values.str.len() > MAX_SHOWN
    out = "'" + values.str.slice(0, MAX_SHOWN) + "'"
    if long.any():
        out[long] = (
            "'"
            + values[long].str.slice(0, MAX_SHOWN)
            + "...' ("
            + values[long].str.len().map("{:,}".format)
            + " characters)"
        )
    return out


def transform(ctx: Context, frame: pd.DataFrame) -> Parsed:
    """Validate `frame` (raw text, columns as in the file) and build canonical rows."""
    src, m = ctx.source, ctx.mapping
    problems = _Problems(frame.index)
    values, texts, unmapped = {}, {}, {}
    empty = pd.Series("", index=frame.index, dtype=object)
    for f in src.fields:
        spec = m.field_spec(f.name)
        if spec is None:
            continue
        text = frame[spec.column].astype(str).str.strip() if spec.column else empty
        if spec.default is not None:
            default = (
                str(int(spec.default))
                if isinstance(spec.default, float) and spec.default.is_integer()
                else str(spec.default)
            )
            text = text.where(text != "", default)
        texts[f.name] = text
        label = f"{f.name} (column {spec.column!r})" if spec.column else f.name
        present = text != ""
        if f.required:
            problems.add(~present, f"{label} is empty")
        formula = present & _starts_with(text, "=+-@")
        if formula.any():
            formula[formula] = text[formula].str.contains(FORMULA, regex=True).to_numpy(dtype=bool)
        problems.add(
            formula,
            lambda k: (
                label + ": " + shown(text[k]) + " looks like a spreadsheet formula; formulas "
                "are neither evaluated nor loaded (export values, not formulas)"
            ),
        )
        ok = present & ~formula
        if f.max_len:
            too_long = ok & (text.str.len() > f.max_len)
            problems.add(too_long, lambda k: label + ": " + shown(text[k]) + f" is longer than {f.max_len} characters")
            ok &= ~too_long
        if f.kind == "number":
            values[f.name] = _number(text, ok, f, spec, m, label, problems)
        elif f.kind == "datetime":
            values[f.name] = _datetime(text, ok, spec.format or m.datetime_format, ctx, f, label, problems)
        elif f.kind == "date":
            values[f.name] = _date(text, ok, spec.format or m.date_format, ctx, f, label, problems)
        elif f.kind == "code":
            values[f.name] = _code(text, ok, f.code_kind, ctx, label, problems, unmapped)
        else:
            values[f.name] = text.where(ok)
    build = _BUILDERS[src.name]
    records = build(ctx, values, texts, problems)
    bad = problems.bad
    records = records[~bad.to_numpy()]
    if len(records):
        records["natural_key"] = records["natural_key"].astype(str)
        records["row_hash"] = row_hashes(records)
    else:
        records["row_hash"] = pd.Series(dtype=object)
    # codes of another plant's rows are not this plant's to review
    counted = {}
    in_scope = problems.category != "out_of_scope"
    for (kind, code), mask in unmapped.items():
        n = int((mask & in_scope).sum())
        if n:
            counted[(kind, code)] = n
    return Parsed(records, problems.reasons, problems.category, counted)


def row_hashes(records: pd.DataFrame) -> pd.Series:
    """A 64-bit hash of each row's canonical values, as 16 hex digits. Columns are brought
    to one representation first (text, float, int64 nanoseconds), so a column that pandas
    typed as object in one chunk and bool in another hashes the same."""
    stable = {}
    for column in records.columns:
        if column in ("natural_key", "_day", "row_hash"):
            continue
        values = records[column]
        if values.dtype.kind == "M":
            stable[column] = values.isna().astype("int64") + values.astype("int64").where(values.notna(), 0)
        elif values.dtype.kind in "fiu":
            stable[column] = values.astype("float64")
        else:
            stable[column] = values.astype(str).where(values.notna(), "\x00")
    return pd.util.hash_pandas_object(pd.DataFrame(stable), index=False).map("{:016x}".format)


# --- field parsers ---------------------------------------------------------------------------

_WIDTH = {"d": 2, "m": 2, "Y": 4, "H": 2, "M": 2, "S": 2}
_ISO = [("Y", 4), ("-", 1), ("m", 2), ("-", 1), ("d", 2), (" ", 1), ("H", 2), (":", 1), ("M", 2), (":", 1), ("S", 2)]


def _layout(fmt):
    """Offsets of each directive in a fixed-width rendering of fmt, or None if not fixed-width."""
    pos, out, literals, i = 0, {}, [], 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%":
            if i + 1 >= len(fmt) or fmt[i + 1] not in _WIDTH or fmt[i + 1] in out:
                return None
            out[fmt[i + 1]] = pos
            pos += _WIDTH[fmt[i + 1]]
            i += 2
        else:
            literals.append((pos, ord(ch)))
            pos += 1
            i += 1
    return out, literals, pos


def _fixed_width(values: pd.Series, fmt: str):
    """Values written exactly as `fmt` (zero-padded, fixed width) parsed fast: their digits are
    moved into ISO 8601 order as a numpy character matrix, and pandas' C parser reads that.
    Returns (parsed, done); rows not done (other widths, non-digits) take the general path.
    pandas' own parsing of a non-ISO format runs in Python at about 14 microseconds a value."""
    layout = _layout(fmt)
    done = pd.Series(False, index=values.index)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if layout is None or not {"d", "m", "Y"} <= set(layout[0]):
        return parsed, done
    offsets, literals, width = layout
    text = values.fillna("")
    lengths = np.fromiter(map(len, text.to_numpy()), dtype=np.int64, count=len(text))
    candidates = lengths == width
    if not candidates.any():
        return parsed, done
    codes = text[candidates].to_numpy().astype(f"U{width}").view(np.uint32).reshape(-1, width)
    ok = np.ones(len(codes), dtype=bool)
    for position, code in literals:
        ok &= codes[:, position] == code
    for key, position in offsets.items():
        digits = codes[:, position : position + _WIDTH[key]]
        ok &= ((digits >= 48) & (digits <= 57)).all(axis=1)
    out = np.empty((len(codes), 19), dtype=np.uint32)
    col = 0
    for key, w in _ISO:
        if key in _WIDTH:
            if key in offsets:
                out[:, col : col + w] = codes[:, offsets[key] : offsets[key] + w]
            else:
                out[:, col : col + w] = ord("0")
        else:
            out[:, col] = ord(key)
        col += w
    iso = out.view("U19").ravel()
    stamps = pd.to_datetime(pd.Series(iso), format="%Y-%m-%d %H:%M:%S", errors="coerce").to_numpy()
    index = values.index[candidates]
    parsed[index[ok]] = stamps[ok]
    done[index[ok]] = True
    return parsed, done


def _number(text, ok, f, spec, m, label, problems):
    t = text.where(ok, "")
    if m.file.thousands:
        t = t.str.replace(m.file.thousands, "", regex=False)
    if m.file.decimal == ",":
        t = t.str.replace(",", ".", regex=False)
    number = pd.to_numeric(t.where(t != ""), errors="coerce")
    bad = ok & ~np.isfinite(number)
    problems.add(bad, lambda k: label + ": " + shown(text[k]) + " is not a number")
    number = number.where(~bad)
    if spec.unit:
        factor, offset = f.units[spec.unit]
        number = number * factor + offset
    if spec.factor:
        number = number * spec.factor
    if f.positive:
        problems.add(number <= 0, lambda k: label + ": " + shown(text[k]) + " must be greater than 0")
    elif f.minimum is not None:
        word = "negative" if f.minimum == 0 else f"below {f.minimum:g}"
        problems.add(number < f.minimum, lambda k: label + ": " + shown(text[k]) + f" is {word}")
    return number


def _parse_local(text, ok, fmt, kind):
    """Naive timestamps (NaT where unparsable) and, for ISO input, those with an offset in UTC."""
    candidates = text.where(ok)
    aware = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if fmt is None:
        has_offset = ok & candidates.str.contains(_OFFSET, regex=True, na=False) if kind == "datetime" else ok & False
        if has_offset.any():
            aware[has_offset] = pd.to_datetime(candidates[has_offset], format="ISO8601", errors="coerce", utc=True)
            candidates = candidates.where(~has_offset)
        naive = pd.to_datetime(candidates, format="ISO8601", errors="coerce")
        return naive, aware, has_offset
    if "%z" in fmt:
        aware = pd.to_datetime(candidates, format=fmt, errors="coerce", utc=True)
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]"), aware, ok
    naive, done = _fixed_width(candidates, fmt)
    rest = ok & ~done
    if rest.any():
        naive[rest] = pd.to_datetime(candidates[rest], format=fmt, errors="coerce")
    # an ISO 8601 value (e.g. an Excel date cell) is unambiguous whatever the format says
    retry = ok & naive.isna()
    if retry.any():
        retry[retry] = candidates[retry].str.match(r"^\d{4}-\d\d-\d\d", na=False).to_numpy(dtype=bool)
    if retry.any():
        naive[retry] = pd.to_datetime(candidates[retry], format="ISO8601", errors="coerce")
    return naive, aware, ok & False


def _datetime(text, ok, fmt, ctx, f, label, problems):
    naive, aware, has_offset = _parse_local(text, ok, fmt, "datetime")
    unparsed = ok & naive.isna() & aware.isna()
    expected = f"format {fmt}" if fmt else "ISO 8601, e.g. 2026-03-29 14:30 (or set datetime_format)"
    problems.add(unparsed, lambda k: label + ": " + shown(text[k]) + f" is not a valid date and time ({expected})")
    policy = ctx.mapping.dst
    n = len(naive)
    ambiguous = "NaT" if policy.ambiguous == "reject" else np.full(n, policy.ambiguous == "earlier")
    nonexistent = "NaT" if policy.nonexistent == "reject" else "shift_forward"
    local = naive.dt.tz_localize(ctx.zone, ambiguous=ambiguous, nonexistent=nonexistent)
    failed = naive.notna() & local.isna()
    if failed.any():
        probe = naive[failed].dt.tz_localize(ctx.zone, ambiguous=np.ones(int(failed.sum()), bool), nonexistent="NaT")
        was_ambiguous = pd.Series(False, index=naive.index)
        was_ambiguous[failed] = probe.notna().to_numpy(dtype=bool)
        problems.add(
            was_ambiguous,
            lambda k: (
                label + ": " + shown(text[k]) + f" occurs twice in {ctx.zone} (clocks go back "
                "that night); the mapping's dst.ambiguous is reject"
            ),
        )
        problems.add(
            failed & ~was_ambiguous,
            lambda k: (
                label + ": " + shown(text[k]) + f" does not exist in {ctx.zone} "
                "(clocks go forward that night); the mapping's dst.nonexistent is reject"
            ),
        )
    utc = local.dt.tz_convert("UTC")
    utc = utc.where(~has_offset, aware) if has_offset.any() else utc
    if fmt and "%z" in fmt:
        utc = aware
    _plausible(utc, ctx, f, label, text, problems)
    return utc


def _date(text, ok, fmt, ctx, f, label, problems):
    if fmt is None:
        iso = text.where(ok).str.slice(0, 10)
        day = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
        day[ok & ~text.str.match(r"^\d{4}-\d\d-\d\d(?:$|[ T])", na=False)] = pd.NaT
        expected = "ISO 8601, e.g. 2026-03-29 (or set date_format)"
    else:
        day, _, _ = _parse_local(text, ok, fmt, "date")
        expected = f"format {fmt}"
    day = day.dt.normalize()
    problems.add(ok & day.isna(), lambda k: label + ": " + shown(text[k]) + f" is not a valid date ({expected})")
    _plausible(day.dt.tz_localize("UTC"), ctx, f, label, text, problems, is_day=True)
    return day


def _plausible(utc, ctx, f, label, text, problems, is_day=False):
    problems.add(utc < EARLIEST, lambda k: label + ": " + shown(text[k]) + " is before 1990")
    if f.name not in FUTURE_OK:
        limit = ctx.now + FUTURE_SLACK
        if is_day:  # a plant-local day, compared with the plant's today
            limit = pd.Timestamp(ctx.now.tz_convert(ctx.zone).date(), tz="UTC") + FUTURE_SLACK
        problems.add(utc > limit, lambda k: label + ": " + shown(text[k]) + " is in the future")


def _code(text, ok, kind, ctx, label, problems, unmapped):
    exact = ctx.lookups[kind]
    resolved = text.where(ok).map(exact)
    missing = ok & resolved.isna()
    if missing.any():
        resolved[missing] = text[missing].str.casefold().map(ctx.folded[kind])
        missing = ok & resolved.isna()
    if not missing.any():
        return resolved
    what = CODE_KIND_LABELS[kind]
    if kind == "plant":
        problems.add(missing, lambda k: label + ": unknown plant " + shown(text[k]), "out_of_scope")
        return resolved
    if kind == "asset":
        other = text.where(missing).map(ctx.foreign_assets)
        elsewhere = missing & other.notna()
        problems.add(
            elsewhere,
            lambda k: label + ": asset " + shown(text[k]) + " belongs to plant " + other[k] + f", not {ctx.plant_id}",
            "out_of_scope",
        )
        missing &= ~elsewhere
    if kind in REVIEWABLE:
        problems.add(
            missing,
            lambda k: (
                label + f": {what} " + shown(text[k]) + " is not mapped "
                f"(unknown at {ctx.plant_id}; it waits in the review list)"
            ),
            "unmapped",
        )
        for code, positions in text[missing].groupby(text[missing]).groups.items():
            mask = pd.Series(False, index=text.index)
            mask[positions] = True
            unmapped[(kind, str(code)[:200])] = mask
    return resolved


# --- per source: canonical rows and cross-field checks ------------------------------------------


def _local_day(utc, zone):
    return utc.dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()


def _day_key(day) -> pd.Series:
    return pd.Series(day.to_numpy().astype("datetime64[D]").astype(str), index=day.index)


def _epoch_key(utc) -> pd.Series:
    return (utc.astype("int64") // 10**9).astype(str)


def _plant_check(ctx, values, problems):
    if "plant" in values:
        other = values["plant"].notna() & (values["plant"] != ctx.plant_id)
        problems.add(
            other,
            lambda k: "the row is for plant " + values["plant"][k].astype(str) + f", not {ctx.plant_id}",
            "out_of_scope",
        )


def _downtime(ctx, v, t, problems):
    _plant_check(ctx, v, problems)
    start = v["start"]
    end = v.get("end", pd.Series(pd.NaT, index=start.index, dtype="datetime64[ns, UTC]"))
    if "duration" in v:
        from_duration = start + pd.to_timedelta(v["duration"], unit="s")
        end = end.where(end.notna(), from_duration)
    neither = start.notna() & end.isna() & (t.get("end", "") == "") & (t.get("duration", "") == "")
    problems.add(neither, "neither end nor duration is given")
    length = (end - start).dt.total_seconds()
    problems.add(
        length < 0,
        lambda k: (
            "end "
            + end[k].dt.tz_convert(ctx.zone).astype(str)
            + " is before start "
            + start[k].dt.tz_convert(ctx.zone).astype(str)
        ),
    )
    problems.add(
        length == 0,
        "the stop ends when it starts (zero length; also when both times fall in the "
        "hour skipped as clocks go forward)",
    )
    problems.add(length > MAX_EVENT.total_seconds(), "the stop lasts more than 30 days")
    asset_id = v["asset"]
    reason = v["reason"]
    info = reason.map(ctx.reasons)
    records = pd.DataFrame(
        {
            "plant_id": ctx.plant_id,
            "line_id": asset_id.map(ctx.asset_line),
            "asset_id": asset_id,
            "start_utc": start,
            "end_utc": end,
            "day": _local_day(start, ctx.zone),
            "duration_s": length,
            "reason_code": reason,
            "category": info.map(lambda x: x[0] if isinstance(x, tuple) else None),
            "is_failure": info.map(lambda x: x[1] if isinstance(x, tuple) else None),
            "local_reason": t["reason"].str.slice(0, 100),
        },
        index=start.index,
    )
    records["natural_key"] = asset_id.fillna("") + "|" + _epoch_key(start.fillna(pd.Timestamp(0, tz="UTC")))
    records["_day"] = records["day"]
    return records


def _prefixed(ctx, number: pd.Series, label, problems) -> pd.Series:
    prefix = ctx.plant_id + "-"
    ident = number.where(number.fillna("").str.startswith(prefix), prefix + number.fillna(""))
    problems.add(
        number.notna() & (ident.str.len() > 48),
        lambda k: label + ": " + shown(number[k]) + " makes an id longer than 48 characters",
    )
    return ident


def _work_orders(ctx, v, t, problems):
    _plant_check(ctx, v, problems)
    created, completed = v["created"], v.get("completed")
    if completed is None:
        completed = pd.Series(pd.NaT, index=created.index, dtype="datetime64[ns, UTC]")
    problems.add(
        completed < created,
        lambda k: (
            "completed "
            + completed[k].dt.tz_convert(ctx.zone).astype(str)
            + " is before created "
            + created[k].dt.tz_convert(ctx.zone).astype(str)
        ),
    )
    status = v.get("status")
    derived = pd.Series(np.where(completed.notna(), "closed", "open"), index=created.index)
    status = derived if status is None else status.where(status.notna() & (t["status"] != ""), derived)
    number = v["wo_number"]
    records = pd.DataFrame(
        {
            "wo_id": _prefixed(ctx, number, "wo_number", problems),
            "plant_id": ctx.plant_id,
            "asset_id": v["asset"],
            "wo_type": v["wo_type"],
            "status": status,
            "created_utc": created,
            "completed_utc": completed,
            "local_code": number,
        },
        index=created.index,
    )
    records["natural_key"] = number.fillna("")
    records["_day"] = _local_day(created, ctx.zone)
    return records


def _production(ctx, v, t, problems):
    _plant_check(ctx, v, problems)
    busy, run = v["planned_busy"], v["run"]
    problems.add(busy > 25 * 3600, "planned busy time is more than 25 hours in one day")
    problems.add(run > busy, "run time is longer than the planned busy time")
    problems.add(v["good_qty"] > v["produced_qty"], "good quantity is larger than the produced quantity")
    records = pd.DataFrame(
        {
            "line_id": v["line"],
            "day": v["day"],
            "plant_id": ctx.plant_id,
            "planned_busy_s": busy,
            "run_s": run,
            "ideal_cycle_s": v["ideal_cycle"],
            "produced_qty": v["produced_qty"],
            "good_qty": v["good_qty"],
        },
        index=busy.index,
    )
    records["natural_key"] = v["line"].fillna("") + "|" + _day_key(v["day"])
    records["_day"] = v["day"]
    return records


def _inventory(ctx, v, t, problems):
    _plant_check(ctx, v, problems)
    records = pd.DataFrame(
        {"plant_id": ctx.plant_id, "material_id": v["material"], "day": v["day"], "on_hand": v["on_hand"]},
        index=v["day"].index,
    )
    records["natural_key"] = v["material"].fillna("") + "|" + _day_key(v["day"])
    records["_day"] = v["day"]
    return records


def _purchase_orders(ctx, v, t, problems):
    _plant_check(ctx, v, problems)
    ordered, promised = v["ordered_day"], v["promised_day"]
    received = v.get("received_day")
    if received is None:
        received = pd.Series(pd.NaT, index=ordered.index, dtype="datetime64[ns]")
    problems.add(promised < ordered, "promised day is before the order day")
    problems.add(received < ordered, "received day is before the order day")
    derived = pd.Series(np.where(received.notna(), "received", "open"), index=ordered.index)
    status = v.get("status")
    status = derived if status is None else status.where(status.notna() & (t["status"] != ""), derived)
    problems.add((status == "received") & received.isna(), "status is received but no received day is given")
    po_id = _prefixed(ctx, v["po_number"], "po_number", problems)
    records = pd.DataFrame(
        {
            "po_id": po_id,
            "plant_id": ctx.plant_id,
            "material_id": v["material"],
            "supplier_id": v["supplier"],
            "qty": v["qty"],
            "ordered_day": ordered,
            "promised_day": promised,
            "received_day": received,
            "status": status,
        },
        index=ordered.index,
    )
    records["natural_key"] = po_id.fillna("")
    records["_day"] = ordered
    return records


def _asset_health(ctx, v, t, problems):
    _plant_check(ctx, v, problems)
    readings = {
        "vibration_mm_s": "vibration",
        "temperature_c": "temperature",
        "current_a": "current",
        "run_hours": "run_hours",
    }
    nan = pd.Series(np.nan, index=v["day"].index)
    cols = {target: v.get(name, nan) for target, name in readings.items()}
    problems.add(
        pd.concat(cols.values(), axis=1).isna().all(axis=1) & v["day"].notna(),
        "no reading: vibration, temperature, current and run hours are all empty",
    )
    problems.add(cols["run_hours"] > 24, "more than 24 run hours in one day")
    records = pd.DataFrame(
        {"asset_id": v["asset"], "day": v["day"], "plant_id": ctx.plant_id, **cols}, index=v["day"].index
    )
    records["natural_key"] = v["asset"].fillna("") + "|" + _day_key(v["day"])
    records["_day"] = v["day"]
    return records


_BUILDERS = {
    "downtime": _downtime,
    "work_orders": _work_orders,
    "production": _production,
    "inventory": _inventory,
    "purchase_orders": _purchase_orders,
    "asset_health": _asset_health,
}
