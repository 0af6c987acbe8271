"""Mapping files: how one plant's export of one source maps onto the canonical model.

A mapping is YAML, validated as a whole by the pydantic models below (a typo is refused
with the field's path, never half-applied). Example, a German downtime log::

    plant: EU-BER
    source: downtime
    timezone: Europe/Berlin          # default: the plant's zone
    file: {delimiter: ";", encoding: cp1252, decimal: ","}
    datetime_format: "%d.%m.%Y %H:%M"
    columns:
      asset: Anlage
      start: Beginn
      end: Ende
      duration: {column: Dauer, unit: min}
      reason: Grund
    codes:
      reason: {Motorschaden: ELEC_FAIL, "Kette gerissen": MECH_FAIL}

Mappings are versioned in the `mapping` table: each load stores the effective mapping (the
file plus the codes mapped in the review list) as a new version when it differs from the
latest, and records the version it used.
"""

import codecs
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select

from data_access.ingest.sources import REVIEWABLE, SOURCES
from data_access.schema import mapping as mapping_table
from data_access.schema import unmapped_code


class MappingError(ValueError):
    """A mapping file or spec is unusable; the message names the field and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileOptions(_Strict):
    """How to read the file. Left out, the delimiter is sniffed and the encoding detected."""

    format: Literal["csv", "excel"] | None = None  # default: from the file name
    delimiter: str | None = Field(None, min_length=1, max_length=1)
    encoding: str | None = None
    decimal: Literal[".", ","] = "."
    thousands: Literal[",", ".", " ", "'"] | None = None
    sheet: str | int | None = None  # Excel: sheet name or 0-based index; default the first
    header_row: int = Field(1, ge=1)  # line (CSV) or row (Excel) of the column names

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value):
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r} (e.g. utf-8, cp1252, latin-1, utf-16)") from None
        return value

    @model_validator(mode="after")
    def _distinct_separators(self):
        if self.thousands is not None and self.thousands == self.decimal:
            raise ValueError("thousands and decimal separators must differ")
        if self.delimiter is not None and self.delimiter == self.decimal and self.format != "excel":
            raise ValueError("the delimiter and the decimal separator must differ")
        return self


class FieldSpec(_Strict):
    """One canonical field: its column, and optionally a format, unit, factor or default."""

    column: str | None = None
    format: str | None = None  # strftime-style, for dates and timestamps
    unit: str | None = None
    factor: float | None = Field(None, gt=0)  # multiplies numbers after unit conversion
    default: str | float | None = None  # when the column is absent from the mapping or empty

    @field_validator("column", "format", "unit", mode="before")
    @classmethod
    def _text(cls, value):
        return None if value is None else str(value)


class DstPolicy(_Strict):
    """Local times that occur twice (autumn) or never (spring) on a daylight-saving day."""

    ambiguous: Literal["earlier", "later", "reject"] = "earlier"
    nonexistent: Literal["shift_forward", "reject"] = "shift_forward"


class Mapping(_Strict):
    plant: str = Field(min_length=1, max_length=32)
    source: Literal[tuple(SOURCES)]  # type: ignore[valid-type]
    timezone: str | None = None
    expected_cadence_h: float | None = Field(None, gt=0)
    file: FileOptions = FileOptions()
    datetime_format: str | None = None  # default ISO 8601 (an explicit offset is honoured)
    date_format: str | None = None  # default ISO 8601 (YYYY-MM-DD)
    dst: DstPolicy = DstPolicy()
    columns: dict[str, str | FieldSpec]
    codes: dict[str, dict[str, str]] = {}

    @field_validator("plant", mode="before")
    @classmethod
    def _plant_text(cls, value):
        return value if value is None else str(value)

    @field_validator("timezone")
    @classmethod
    def _iana_zone(cls, value):
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown IANA time zone {value!r} (e.g. Europe/Berlin)") from None
        return value

    @field_validator("columns", mode="before")
    @classmethod
    def _columns_as_text(cls, value):
        """A column named 3 (a number in YAML) is the column "3"."""
        if not isinstance(value, dict):
            return value
        return {str(k): (_yaml_text(v) if isinstance(v, (int, float, bool)) else v) for k, v in value.items()}

    @field_validator("codes", mode="before")
    @classmethod
    def _codes_as_text(cls, value):
        """YAML reads 1001 as a number and yes/no as booleans: codes are text."""
        if not isinstance(value, dict):
            return value
        out = {}
        for kind, table in value.items():
            if not isinstance(table, dict):
                raise ValueError(f"codes.{kind} must map local codes to canonical codes")
            out[str(kind)] = {_yaml_text(k): _yaml_text(v) for k, v in table.items()}
        return out

    @model_validator(mode="after")
    def _fits_the_source(self):
        source = SOURCES[self.source]
        unknown = [name for name in self.columns if name not in source.field_names]
        if unknown:
            raise ValueError(
                f"columns: unknown field(s) {', '.join(unknown)} for source {self.source} "
                f"(known: {', '.join(source.field_names)})"
            )
        for name, spec in self.columns.items():
            f = source.field(name)
            spec = spec if isinstance(spec, FieldSpec) else FieldSpec(column=spec)
            if spec.column is None and spec.default is None:
                raise ValueError(f"columns.{name}: give a column or a default")
            if spec.unit is not None:
                if not f.units:
                    raise ValueError(f"columns.{name}: {f.kind} field {name!r} takes no unit")
                if spec.unit not in f.units:
                    raise ValueError(f"columns.{name}: unknown unit {spec.unit!r} (known: {', '.join(f.units)})")
            if spec.factor is not None and f.kind != "number":
                raise ValueError(f"columns.{name}: only number fields take a factor")
            if spec.format is not None and f.kind not in ("date", "datetime"):
                raise ValueError(f"columns.{name}: only date and datetime fields take a format")
        missing = [f.name for f in source.fields if f.required and f.name not in self.columns]
        if missing:
            raise ValueError(f"columns: required field(s) missing for source {self.source}: {', '.join(missing)}")
        if self.source == "downtime" and "end" not in self.columns and "duration" not in self.columns:
            raise ValueError("columns: downtime needs `end` or `duration`")
        kinds = {f.code_kind for f in source.fields if f.kind == "code"}
        bad = [k for k in self.codes if k not in kinds]
        if bad:
            raise ValueError(
                f"codes: {', '.join(bad)} is not a code of source {self.source} (its codes: {', '.join(sorted(kinds))})"
            )
        return self

    def field_spec(self, name: str) -> FieldSpec | None:
        spec = self.columns.get(name)
        return FieldSpec(column=spec) if isinstance(spec, str) else spec

    @property
    def spec(self) -> dict:
        """The mapping as stored in the warehouse (JSON-ready, every default written out)."""
        return self.model_dump(mode="json")

    def to_yaml(self) -> str:
        return dump_yaml(self.spec)

    def with_codes(self, extra: dict[str, dict[str, str]]) -> "Mapping":
        """This mapping plus codes from elsewhere (the review list); its own codes win."""
        merged = {kind: dict(table) for kind, table in self.codes.items()}
        kinds = {f.code_kind for f in SOURCES[self.source].fields if f.kind == "code"}
        for kind, table in extra.items():
            if kind in kinds:
                merged[kind] = {**table, **merged.get(kind, {})}
        return self.model_copy(update={"codes": merged})


def _yaml_text(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_mapping(document, where: str = "mapping") -> Mapping:
    """Validate a mapping document (parsed YAML or a stored spec); MappingError on any problem."""
    if not isinstance(document, dict):
        raise MappingError(f"{where}: expected a mapping with plant, source and columns")
    try:
        return Mapping.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            path = ".".join(str(p) for p in error["loc"] if not str(p).startswith(("function-", "FieldSpec", "str")))
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{path}: {message}" if path else message)
        raise MappingError(f"{where}: " + "; ".join(dict.fromkeys(problems))) from None


def parse_mapping_text(text: str, where: str = "mapping") -> Mapping:
    """Validate mapping YAML text."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"{where} is not valid YAML: {' '.join(str(exc).split())}") from None
    return parse_mapping(document, where)


def load_mapping(path) -> Mapping:
    """Read and validate a mapping file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(f"mapping file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"mapping file {path} cannot be read: {exc}") from None
    return parse_mapping_text(text, str(path))


def dump_yaml(spec: dict) -> str:
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, default_flow_style=False)


def template(source: str, plant_id: str) -> Mapping:
    """A starting mapping for a source: every field mapped to a column of the same name."""
    fields = SOURCES[source].fields
    return parse_mapping(
        {
            "plant": plant_id,
            "source": source,
            "columns": {f.name: f.name for f in fields if f.required or f.name == "end"},
        }
    )


# --- versions in the warehouse ---------------------------------------------------------------


def reviewed_codes(conn, plant_id: str) -> dict[str, dict[str, str]]:
    """Codes a steward mapped in the review list for a plant: kind -> local -> canonical."""
    u = unmapped_code.c
    rows = conn.execute(
        select(u.kind, u.local_code, u.canonical_code).where(
            u.plant_id == plant_id, u.status == "mapped", u.kind.in_(REVIEWABLE)
        )
    ).all()
    out: dict[str, dict[str, str]] = {}
    for kind, local, canonical in rows:
        out.setdefault(kind, {})[local] = canonical
    return out


def register(conn, mapping: Mapping, actor: str, now: datetime | None = None) -> tuple[int, int]:
    """Store `mapping` as the newest version for its plant and source unless the newest
    already equals it; returns (mapping_id, version). Runs in the caller's transaction."""
    m = mapping_table.c
    latest = conn.execute(
        select(m.mapping_id, m.version, m.spec)
        .where(m.plant_id == mapping.plant, m.source == mapping.source)
        .order_by(m.version.desc())
        .limit(1)
    ).first()
    spec = mapping.spec
    if latest is not None and _canonical(_as_dict(latest.spec)) == _canonical(spec):
        return latest.mapping_id, latest.version
    version = (latest.version if latest is not None else 0) + 1
    mapping_id = conn.execute(
        mapping_table.insert()
        .values(
            plant_id=mapping.plant,
            source=mapping.source,
            version=version,
            spec=spec,
            created_utc=now or datetime.now(timezone.utc),
            created_by=actor[:64],
        )
        .returning(m.mapping_id)
    ).scalar_one()
    return mapping_id, version


def latest(conn, plant_id: str, source: str) -> tuple[Mapping, int] | None:
    """The newest stored mapping of a plant's source and its version, or None."""
    m = mapping_table.c
    row = conn.execute(
        select(m.version, m.spec).where(m.plant_id == plant_id, m.source == source).order_by(m.version.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return parse_mapping(_as_dict(row.spec), f"stored mapping {plant_id}/{source} v{row.version}"), row.version


def _as_dict(spec):
    return json.loads(spec) if isinstance(spec, str) else spec


def _canonical(spec: dict) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
