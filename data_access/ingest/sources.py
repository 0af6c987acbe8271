"""What each source delivers: its canonical fields, their kinds, and where its rows land.

A mapping file maps a plant's columns onto these fields (see `data_access.ingest.mapping`).
Field kinds:

- `text`: kept as text, at most `max_len` characters.
- `number`: a decimal number; `units` converts a declared unit to the canonical one.
- `datetime`: a plant-local timestamp (or one with an explicit UTC offset), stored in UTC.
- `date`: a plant-local calendar day.
- `code`: a local code resolved to a canonical one of `code_kind` (the mapping's `codes`,
  the review list, then the warehouse's own ids and local codes).
"""

from dataclasses import dataclass, field

from data_access import schema

# unit -> (factor, offset): canonical = value * factor + offset
DURATION_UNITS = {"s": (1.0, 0.0), "min": (60.0, 0.0), "h": (3600.0, 0.0)}
TEMPERATURE_UNITS = {"C": (1.0, 0.0), "F": (5 / 9, -32 * 5 / 9), "K": (1.0, -273.15)}
VIBRATION_UNITS = {"mm/s": (1.0, 0.0), "in/s": (25.4, 0.0)}

# Code kinds and the canonical values they resolve to. Kinds with a `table` are looked up
# in the warehouse; the others are fixed vocabularies.
VOCABULARIES = {
    "wo_type": ("preventive", "corrective", "inspection"),
    "wo_status": ("open", "closed"),
    "po_status": ("open", "received", "cancelled"),
}
CODE_KIND_LABELS = {
    "plant": "plant",
    "asset": "asset",
    "line": "line",
    "material": "material",
    "supplier": "supplier",
    "reason": "downtime reason",
    "wo_type": "work-order type",
    "wo_status": "work-order status",
    "po_status": "purchase-order status",
}
REVIEWABLE = ("asset", "line", "material", "supplier", "reason", "wo_type", "wo_status", "po_status")
"""Code kinds whose unknown values go to the review list (an unknown plant does not)."""


@dataclass(frozen=True)
class FieldDef:
    name: str
    kind: str  # text | number | datetime | date | code
    required: bool = False
    help: str = ""
    code_kind: str | None = None
    units: dict | None = None
    canonical_unit: str | None = None
    max_len: int | None = None
    minimum: float | None = None  # inclusive
    positive: bool = False


@dataclass(frozen=True)
class SourceDef:
    name: str
    label: str
    table: object  # the fact table rows land in
    feed: str  # feed_status.source
    fields: tuple[FieldDef, ...]
    natural_key: tuple[str, ...]  # canonical columns identifying a row at a plant
    day_column: str  # the fact column dating a row (plant-local day, or created_utc), for completeness
    default_cadence_h: float = 24.0
    field_names: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "field_names", tuple(f.name for f in self.fields))

    def field(self, name: str) -> FieldDef:
        return next(f for f in self.fields if f.name == name)


_PLANT = FieldDef("plant", "code", code_kind="plant", help="plant of the row; rows of another plant are refused")

SOURCES: dict[str, SourceDef] = {
    s.name: s
    for s in (
        SourceDef(
            "downtime",
            "Downtime events",
            schema.downtime_event,
            "downtime",
            (
                _PLANT,
                FieldDef("asset", "code", True, "equipment that stopped", code_kind="asset"),
                FieldDef("start", "datetime", True, "when the stop began (plant-local)"),
                FieldDef("end", "datetime", help="when it ended; or give `duration`"),
                FieldDef(
                    "duration",
                    "number",
                    help="length of the stop, when there is no end",
                    units=DURATION_UNITS,
                    canonical_unit="s",
                    minimum=0.0,
                ),
                FieldDef("reason", "code", True, "the plant's reason text or code", code_kind="reason", max_len=100),
            ),
            ("asset_id", "start_utc"),
            "day",
        ),
        SourceDef(
            "work_orders",
            "Work orders",
            schema.work_order,
            "work_orders",
            (
                _PLANT,
                FieldDef("wo_number", "text", True, "the CMMS work-order number", max_len=40),
                FieldDef("asset", "code", True, "equipment worked on", code_kind="asset"),
                FieldDef("wo_type", "code", True, "preventive | corrective | inspection", code_kind="wo_type"),
                FieldDef(
                    "status", "code", help="open | closed (default: closed when completed)", code_kind="wo_status"
                ),
                FieldDef("created", "datetime", True, "when the work order was raised"),
                FieldDef("completed", "datetime", help="when it was closed"),
            ),
            ("wo_id",),
            "created_utc",
        ),
        SourceDef(
            "production",
            "Production per line and day",
            schema.production_daily,
            "production",
            (
                _PLANT,
                FieldDef("line", "code", True, "the line (work centre)", code_kind="line"),
                FieldDef("day", "date", True, "plant-local production day"),
                FieldDef(
                    "planned_busy",
                    "number",
                    True,
                    "planned busy time",
                    units=DURATION_UNITS,
                    canonical_unit="s",
                    minimum=0.0,
                ),
                FieldDef("run", "number", True, "run time", units=DURATION_UNITS, canonical_unit="s", minimum=0.0),
                FieldDef(
                    "ideal_cycle",
                    "number",
                    True,
                    "ideal cycle time per unit",
                    units=DURATION_UNITS,
                    canonical_unit="s",
                    positive=True,
                ),
                FieldDef("produced_qty", "number", True, "units produced", minimum=0.0),
                FieldDef("good_qty", "number", True, "good units", minimum=0.0),
            ),
            ("line_id", "day"),
            "day",
        ),
        SourceDef(
            "inventory",
            "Inventory snapshots",
            schema.inventory_snapshot,
            "inventory",
            (
                _PLANT,
                FieldDef("material", "code", True, "the plant's material number", code_kind="material"),
                FieldDef("day", "date", True, "plant-local day of the count"),
                FieldDef("on_hand", "number", True, "quantity on hand, in the material's unit", minimum=0.0),
            ),
            ("material_id", "day"),
            "day",
        ),
        SourceDef(
            "purchase_orders",
            "Purchase orders",
            schema.purchase_order,
            "purchase_orders",
            (
                _PLANT,
                FieldDef("po_number", "text", True, "the ERP's purchase-order number", max_len=40),
                FieldDef("material", "code", True, "the plant's material number", code_kind="material"),
                FieldDef("supplier", "code", True, "supplier", code_kind="supplier"),
                FieldDef("qty", "number", True, "ordered quantity", positive=True),
                FieldDef("ordered_day", "date", True, "day ordered"),
                FieldDef("promised_day", "date", True, "day the supplier promised"),
                FieldDef("received_day", "date", help="day received (empty while open)"),
                FieldDef(
                    "status",
                    "code",
                    help="open | received | cancelled (default: from received_day)",
                    code_kind="po_status",
                ),
            ),
            ("po_id",),
            "ordered_day",
        ),
        SourceDef(
            "asset_health",
            "Asset health readings",
            schema.asset_health_daily,
            "health",
            (
                _PLANT,
                FieldDef("asset", "code", True, "equipment measured", code_kind="asset"),
                FieldDef("day", "date", True, "plant-local day of the reading"),
                FieldDef(
                    "vibration",
                    "number",
                    help="vibration (RMS)",
                    units=VIBRATION_UNITS,
                    canonical_unit="mm/s",
                    minimum=0.0,
                ),
                FieldDef(
                    "temperature",
                    "number",
                    help="temperature",
                    units=TEMPERATURE_UNITS,
                    canonical_unit="C",
                    minimum=-273.15,
                ),
                FieldDef("current", "number", help="motor current (A)", minimum=0.0),
                FieldDef("run_hours", "number", help="running hours that day", minimum=0.0),
            ),
            ("asset_id", "day"),
            "day",
        ),
    )
}
