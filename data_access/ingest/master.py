"""Master data from a plant's own exports: plants, lines, assets, materials and suppliers.

The same command, mapping files, reader and load log as facts (`load_file` hands a master
source here). Master data is all or nothing: dimensions are what every fact hangs on, so a
file with any bad row is refused as a whole with every problem named by row and field, and
nothing is written (the refusal is logged in `ingest_load` when the plant exists). Refused:
a time zone that is not an IANA zone, a line or asset of an unknown plant, an asset or line
id that another plant already uses (or two plants in one file), a file that renames an
existing plant. A row that is already in the warehouse as the file has it is `unchanged`;
other attributes of an existing row are updated (`replaced`).

Creating a plant is a permission of data stewards and admins: the caller says whether its
user may (`may_create_plant`); data_access knows no roles.
"""

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import available_timezones

import pandas as pd
from sqlalchemy import select, update

from data_access.ingest import mapping as mappings
from data_access.ingest.errors import IngestError
from data_access.ingest.mapping import Mapping
from data_access.ingest.sources import MASTER_SOURCES, SourceDef
from data_access.ingest.transform import EXCEL, EXCEL_EPOCH
from data_access.schema import asset, ingest_load, line, material, plant, plant_material, region, supplier

MAX_LISTED = 20  # problems named in a refusal
MATURITIES = ("iot", "mes", "spreadsheet")
MATERIAL_TYPES = ("spare_part", "raw", "packaging", "finished")
CRITICALITIES = ("A", "B", "C")
_CODE2 = re.compile(r"^[A-Z]{2}$")
_CODE3 = re.compile(r"^[A-Z]{3}$")


@lru_cache(maxsize=1)
def _iana_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def load_master(
    conn,
    result,
    mapping: Mapping,
    frame: pd.DataFrame,
    numbers: pd.Series,
    *,
    actor: str,
    now: datetime,
    digest: str | None,
    may_create_plant: bool,
    audit: Callable | None = None,
) -> None:
    """Validate every row of `frame` (raw text, columns as in the file) and write them in the
    caller's transaction; IngestError naming every problem (nothing written) on any bad row."""
    src = MASTER_SOURCES[result.source]
    values, problems = _values(src, mapping, frame, numbers)
    known = _Known.read(conn, result.plant_id)
    check = {
        "plant": _check_plants,
        "line": _check_lines,
        "asset": _check_assets,
        "material": _check_materials,
        "supplier": _check_suppliers,
    }[src.name]
    rows = check(values, numbers, known, result.plant_id, mapping, problems)
    if src.name == "plant" and result.plant_id not in known.plants and not may_create_plant:
        problems.append(f"plant {result.plant_id!r} is new: only a data steward or admin may create a plant")
    if problems:
        shown = problems[:MAX_LISTED]
        more = f" (and {len(problems) - MAX_LISTED} more)" if len(problems) > MAX_LISTED else ""
        raise IngestError("refused, nothing was written: " + "; ".join(shown) + more)
    if src.name != "plant" and result.plant_id not in known.plants:
        raise IngestError(f"unknown plant {result.plant_id!r}: load its plant master first (--source plant)")
    _write(conn, src, rows, result)
    mapping_id, version = mappings.register(conn, mapping, actor, now)
    result.mapping_version = version
    result.status = "loaded"
    result.load_id = conn.execute(
        ingest_load.insert()
        .values(
            plant_id=result.plant_id,
            source=result.source,
            file_name=result.file_name[:260],
            file_sha256=digest,
            mapping_id=mapping_id,
            mapping_version=version,
            actor=actor[:64],
            started_utc=now,
            finished_utc=datetime.now(timezone.utc),
            status=result.status,
            rows_read=result.rows_read,
            inserted=result.inserted,
            replaced=result.replaced,
            unchanged=result.unchanged,
            duplicates=result.duplicates,
            quarantined=0,
            unmapped=0,
            removed=0,
            replaces=[],
            message="; ".join(result.notes)[:4000] or None,
        )
        .returning(ingest_load.c.load_id)
    ).scalar_one()
    if audit is not None:
        audit(conn, result)


# --- values -------------------------------------------------------------------------------------


def _values(src: SourceDef, mapping: Mapping, frame: pd.DataFrame, numbers: pd.Series):
    """Per field: the parsed values (None where empty or bad), and the problems found."""
    problems: list[str] = []
    out: dict[str, list] = {}
    for f in src.fields:
        spec = mapping.field_spec(f.name)
        if spec is None:
            out[f.name] = [None] * len(frame)
            continue
        text = frame[spec.column].astype(str).str.strip() if spec.column else pd.Series("", index=frame.index)
        if spec.default is not None:
            text = text.where(text != "", str(spec.default))
        parsed: list = []
        for number, value in zip(numbers, text):
            where = _at(mapping, number, f.name)
            if value == "":
                if f.required:
                    problems.append(f"{where} is empty")
                parsed.append(None)
            elif f.max_len and len(value) > f.max_len:
                problems.append(f"{where}: {value[:60]!r} is longer than {f.max_len} characters")
                parsed.append(None)
            elif f.kind == "number":
                parsed.append(_number(value, mapping, where, f.minimum, problems))
            elif f.kind == "date":
                parsed.append(_date(value, spec.format or mapping.date_format, where, problems))
            elif f.kind == "code":
                parsed.append(mapping.codes.get(f.code_kind, {}).get(value, value))
            else:
                parsed.append(value)
        out[f.name] = parsed
    return out, problems


def _at(mapping: Mapping, number, name: str) -> str:
    """Where a problem is: the file's row, the field and the plant's column."""
    spec = mapping.field_spec(name)
    return f"row {number}, {name} (column {spec.column!r})" if spec and spec.column else f"row {number}, {name}"


def _number(value: str, mapping: Mapping, where: str, minimum, problems) -> float | None:
    text = value.replace(mapping.file.thousands, "") if mapping.file.thousands else value
    try:
        number = float(text.replace(",", ".") if mapping.file.decimal == "," else text)
    except ValueError:
        problems.append(f"{where}: {value[:60]!r} is not a number")
        return None
    if minimum is not None and number < minimum:
        problems.append(f"{where}: {value!r} is below {minimum:g}")
        return None
    return number


def _date(value: str, fmt: str | None, where: str, problems) -> date | None:
    try:
        if fmt == EXCEL:
            return (EXCEL_EPOCH + timedelta(days=float(value.replace(",", ".")))).date()
        return (datetime.strptime(value, fmt) if fmt else datetime.fromisoformat(value)).date()
    except ValueError:
        problems.append(f"{where}: {value[:60]!r} is not a date" + (f" in format {fmt!r}" if fmt else " (YYYY-MM-DD)"))
        return None


# --- what the warehouse already holds -----------------------------------------------------------


class _Known:
    """The dimensions as they are before the load: id -> row."""

    @classmethod
    def read(cls, conn, plant_id: str) -> "_Known":
        k = cls()
        k.plants = {r.plant_id: r for r in conn.execute(select(plant)).all()}
        k.regions = {r.region_id: r.region_id for r in conn.execute(select(region)).all()}
        k.regions.update({r.name.casefold(): r.region_id for r in conn.execute(select(region)).all()})
        k.lines = {r.line_id: r for r in conn.execute(select(line)).all()}
        k.line_codes = {r.local_code: r.line_id for r in k.lines.values() if r.plant_id == plant_id}
        k.assets = {r.asset_id: r for r in conn.execute(select(asset)).all()}
        k.materials = {r.material_id: r for r in conn.execute(select(material)).all()}
        k.suppliers = {r.supplier_id: r for r in conn.execute(select(supplier)).all()}
        return k


def _rows(values: dict) -> list[dict]:
    names = list(values)
    return [dict(zip(names, row)) for row in zip(*values.values())]


def _once(rows, numbers, key: str, what: str, mapping, problems) -> None:
    """The same id twice in one file: refused (which of the two is meant is not ours to guess)."""
    first: dict = {}
    for number, row in zip(numbers, rows):
        ident = row[key]
        if ident is None:
            continue
        if ident in first:
            problems.append(
                f"{_at(mapping, number, key)}: {what} {ident!r} is already in row {first[ident]} of this file"
            )
        else:
            first[ident] = number


def _row_plant(row, number, known, plant_id, mapping, problems) -> None:
    """A line or asset row's plant: known, and the load's own."""
    given = row["plant"] or plant_id
    if given not in known.plants:
        problems.append(
            f"{_at(mapping, number, 'plant')}: {given!r} is not a known plant (load its plant master "
            "first: --source plant)"
        )
    elif given != plant_id:
        problems.append(f"{_at(mapping, number, 'plant')}: {given!r} is not the load's plant {plant_id!r}")


def _check_plants(values, numbers, known, plant_id, mapping, problems) -> list[dict]:
    rows = _rows(values)
    _once(rows, numbers, "plant", "plant", mapping, problems)
    out = []
    for number, r in zip(numbers, rows):
        if r["plant"] is not None and r["plant"] != plant_id:
            problems.append(
                f"{_at(mapping, number, 'plant')}: {r['plant']!r} is not the load's plant {plant_id!r} (one plant per load)"
            )
        if r["timezone"] is not None and r["timezone"] not in _iana_zones():
            problems.append(
                f"{_at(mapping, number, 'timezone')}: {r['timezone']!r} is not an IANA time zone (e.g. Europe/Paris)"
            )
        region_id = None
        if r["region"] is not None:
            region_id = known.regions.get(r["region"]) or known.regions.get(r["region"].casefold())
            if region_id is None:
                problems.append(
                    f"{_at(mapping, number, 'region')}: {r['region']!r} is not a known region "
                    f"(known: {', '.join(sorted(set(known.regions.values())))})"
                )
        for name, pattern, example in (("country", _CODE2, "FR"), ("currency", _CODE3, "EUR")):
            if r[name] is not None and not pattern.match(r[name]):
                problems.append(f"{_at(mapping, number, name)}: {r[name]!r} is not an ISO code (e.g. {example})")
        if r["data_maturity"] is not None and r["data_maturity"] not in MATURITIES:
            problems.append(
                f"{_at(mapping, number, 'data_maturity')}: {r['data_maturity']!r} is not one of {', '.join(MATURITIES)}"
            )
        for name, limit in (("lat", 90.0), ("lon", 180.0)):
            if r[name] is not None and abs(r[name]) > limit:
                problems.append(f"{_at(mapping, number, name)}: {r[name]:g} is outside ±{limit:g}")
        old = known.plants.get(r["plant"])
        if old is not None and r["name"] is not None and r["name"] != old.name:
            problems.append(
                f"{_at(mapping, number, 'name')}: the file renames plant {r['plant']!r} from {old.name!r} to "
                f"{r['name']!r}; a master-data load does not rename a plant"
            )
        out.append(
            {
                "plant_id": r["plant"],
                "name": r["name"],
                "region_id": region_id,
                "country": r["country"],
                "timezone": r["timezone"],
                "lat": r["lat"],
                "lon": r["lon"],
                "data_maturity": r["data_maturity"],
                "maintenance_workflow": r["maintenance_workflow"],
                "currency": r["currency"],
            }
        )
    return out


def _check_lines(values, numbers, known, plant_id, mapping, problems) -> list[dict]:
    rows = _rows(values)
    _once(rows, numbers, "line", "line", mapping, problems)
    out = []
    for number, r in zip(numbers, rows):
        _row_plant(r, number, known, plant_id, mapping, problems)
        old = known.lines.get(r["line"])
        if old is not None and old.plant_id != plant_id:
            problems.append(f"{_at(mapping, number, 'line')}: line id {r['line']!r} is used by plant {old.plant_id}")
        out.append(
            {
                "line_id": r["line"],
                "plant_id": plant_id,
                "name": r["name"],
                "line_type": r["line_type"],
                "local_code": r["local_code"] or r["line"],
            }
        )
    return out


def _check_assets(values, numbers, known, plant_id, mapping, problems) -> list[dict]:
    rows = _rows(values)
    _once(rows, numbers, "asset", "asset", mapping, problems)
    out = []
    for number, r in zip(numbers, rows):
        _row_plant(r, number, known, plant_id, mapping, problems)
        old = known.assets.get(r["asset"])
        if old is not None and old.plant_id != plant_id:
            problems.append(f"{_at(mapping, number, 'asset')}: asset id {r['asset']!r} is used by plant {old.plant_id}")
        line_id = None
        if r["line"] is not None:
            line_id = known.line_codes.get(r["line"]) or (r["line"] if r["line"] in known.lines else None)
            if line_id is None or known.lines[line_id].plant_id != plant_id:
                problems.append(
                    f"{_at(mapping, number, 'line')}: {r['line']!r} is not a line of plant {plant_id} "
                    "(load its lines first: --source line)"
                )
        if r["criticality"] is not None and r["criticality"] not in CRITICALITIES:
            problems.append(f"{_at(mapping, number, 'criticality')}: {r['criticality']!r} is not one of A, B, C")
        installed = r["install_date"]
        if installed is not None and installed > date.today():
            problems.append(f"{_at(mapping, number, 'install_date')}: {installed} is in the future")
        code = r["local_code"] or r["asset"]
        out.append(
            {
                "asset_id": r["asset"],
                "plant_id": plant_id,
                "line_id": line_id,
                "asset_class": r["asset_class"],
                "criticality": r["criticality"],
                "local_code": code,
                "local_name": r["local_name"] or code,
                "model": r["model"],
                "install_date": installed,
                "install_year": installed.year if installed else None,
            }
        )
    return out


def _check_materials(values, numbers, known, plant_id, mapping, problems) -> list[dict]:
    rows = _rows(values)
    _once(rows, numbers, "material", "material", mapping, problems)
    for number, r in zip(numbers, rows):
        if r["material_type"] is not None and r["material_type"] not in MATERIAL_TYPES:
            problems.append(
                f"{_at(mapping, number, 'material_type')}: {r['material_type']!r} is not one of "
                f"{', '.join(MATERIAL_TYPES)}"
            )
    return [
        {
            "material_id": r["material"],
            "name": r["name"],
            "material_type": r["material_type"],
            "unit": r["unit"],
            "unit_cost": r["unit_cost"],
            "asset_class": r["asset_class"],
            "local_code": r["local_code"] or r["material"],
        }
        for r in rows
    ]


def _check_suppliers(values, numbers, known, plant_id, mapping, problems) -> list[dict]:
    rows = _rows(values)
    _once(rows, numbers, "supplier", "supplier", mapping, problems)
    for number, r in zip(numbers, rows):
        if r["country"] is not None and not _CODE2.match(r["country"]):
            problems.append(f"{_at(mapping, number, 'country')}: {r['country']!r} is not an ISO code (e.g. DE)")
    return [{"supplier_id": r["supplier"], "name": r["name"], "country": r["country"]} for r in rows]


# --- writing ------------------------------------------------------------------------------------


def _write(conn, src: SourceDef, rows: list[dict], result) -> None:
    """Insert new rows, update changed ones; a material also joins the load's plant."""
    table = src.table
    key = src.natural_key[0]
    columns = set(table.c.keys())
    for row in rows:
        values = {k: v for k, v in row.items() if k in columns}
        old = conn.execute(select(table).where(table.c[key] == values[key])).mappings().first()
        if old is None:
            conn.execute(table.insert().values(**values))
            result.inserted += 1
        elif any(_differs(old[k], v) for k, v in values.items()):
            conn.execute(update(table).where(table.c[key] == values[key]).values(**values))
            result.replaced += 1
        else:
            result.unchanged += 1
        if src.name == "material":
            _join_plant(conn, result.plant_id, row)


def _differs(old, new) -> bool:
    if isinstance(old, float) or isinstance(new, float):
        return old is None or new is None or abs(float(old) - float(new)) > 1e-9
    return old != new


def _join_plant(conn, plant_id: str, row: dict) -> None:
    pm = plant_material.c
    where = (pm.plant_id == plant_id, pm.material_id == row["material_id"])
    if conn.execute(select(pm.material_id).where(*where)).first() is None:
        conn.execute(
            plant_material.insert().values(
                plant_id=plant_id,
                material_id=row["material_id"],
                local_code=row["local_code"],
                safety_stock=0.0,
                reorder_point=0.0,
            )
        )
    else:
        conn.execute(update(plant_material).where(*where).values(local_code=row["local_code"]))
