"""Process events from the ERP and CMMS (goods receipt, purchase-order confirmation, work-order
completion) and the targets' answers to delivered messages (ack), one JSON document each.

An event is checked with the same rules as a file row: its fields go through the ingest's
validation and mapping (`data_access.ingest.transform`, with every field of the source mapped
to the event field of the same name, and the plant's reviewed codes), so a local material
number resolves as in a file, an unknown one waits in the review list, a formula or a
number out of range is refused with the same words. On top of that, per event:

- malformed (not JSON, a field missing or of the wrong type, an unknown event type): `invalid`;
- an unknown plant: `out_of_scope`;
- an event id applied before: `duplicate` (a unique key backs this up when two consumers race);
- older than an event already applied to the same purchase or work order, or a goods receipt
  for a purchase order whose confirmation has not arrived: `out_of_order`.

Every event is kept in `inbound_event` (applied or quarantined, with its reason); one of a
known plant that is refused is also a `quarantine` row (source `process_events`), so the Data
quality page lists it with the file rows. Applying an event and recording it are one
transaction: nothing is half-written.

A goods receipt marks its purchase order received, books the quantity into stock (a stock
count for the receipt day: the newest count before it, less the consumption recorded since,
plus the receipt), and closes the loop of the oldest open purchase requisition for the
material at the plant (or the one the event names by `outbox_id`): its delivery shows
"received", and the next scoring sees the stock.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Literal

import pandas as pd
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from data_access import bulk
from data_access import delivery as store
from data_access.engine import first_line
from data_access.frames import read_frame
from data_access.ingest import facts
from data_access.ingest.errors import IngestError
from data_access.ingest.mapping import parse_mapping, reviewed_codes
from data_access.ingest.sources import SOURCES
from data_access.ingest.transform import build_context, transform
from data_access.schema import (
    demand_daily,
    inbound_event,
    inventory_snapshot,
    plant,
    purchase_order,
    quarantine,
    unmapped_code,
    work_order,
)
from data_access.scope import PlantScope

SOURCE = "process_events"
"""`quarantine.source` of refused events."""
OnReceived = Callable[[Connection, dict], None]


class _Event(BaseModel):
    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)
    event_id: str = Field(min_length=1, max_length=128)
    type: Literal["goods_receipt", "po_confirmation", "work_order_completion", "ack"]


class _Ack(_Event):
    outbox_id: int
    accepted: bool
    document_number: str | None = Field(None, max_length=64)
    reason: str | None = Field(None, max_length=2000)
    occurred_utc: AwareDatetime | None = None


class _Process(_Event):
    plant: str = Field(min_length=1, max_length=32)
    occurred_utc: AwareDatetime
    outbox_id: int | None = None


class _PurchaseOrder(_Process):
    po_number: str = Field(min_length=1, max_length=40)
    material: str = Field(min_length=1, max_length=200)
    qty: float
    supplier: str | None = Field(None, max_length=200)
    promised_day: date | None = None


class _WorkOrder(_Process):
    wo_number: str = Field(min_length=1, max_length=40)
    asset: str | None = Field(None, max_length=200)
    wo_type: str | None = Field(None, max_length=40)
    created_utc: AwareDatetime | None = None


MODELS = {
    "ack": _Ack,
    "goods_receipt": _PurchaseOrder,
    "po_confirmation": _PurchaseOrder,
    "work_order_completion": _WorkOrder,
}


@dataclass(frozen=True)
class Received:
    """What became of one event: status applied | quarantined, and why."""

    inbound_id: int
    status: str
    category: str | None = None
    reason: str | None = None


class _Refused(Exception):
    def __init__(self, category: str, reason: str, codes=()):
        super().__init__(reason)
        self.category, self.reason, self.codes = category, reason, tuple(codes)  # codes: unmapped (kind, code)


def receive(
    engine: Engine,
    body: bytes,
    *,
    now: datetime | None = None,
    channel: str = "amqp",
    on_received: OnReceived | None = None,
) -> Received:
    """Validate and apply one event (the body of a message). `on_received(conn, detail)` runs in
    the transaction that closes a requisition's loop (the worker audits it there)."""
    now = now or datetime.now(timezone.utc)
    raw, event = _parse(body)
    try:
        if isinstance(event, _Refused):
            raise event
        with engine.begin() as conn:
            inbound_id = _apply(conn, event, raw, now, on_received)
        return Received(inbound_id, "applied")
    except _Refused as refused:
        return _quarantine(engine, raw, event, refused, now, channel)
    except IntegrityError as exc:  # most likely another consumer applied the same event id a moment ago
        with engine.connect() as conn:
            raced = (
                conn.execute(
                    select(inbound_event.c.inbound_id).where(inbound_event.c.applied_key == event.event_id)
                ).first()
                is not None
            )
        refused = (
            _Refused("duplicate", f"event {event.event_id!r} was applied already (by another consumer)")
            if raced
            else _Refused("invalid", f"the warehouse refused it: {first_line(exc)}")
        )
        return _quarantine(engine, raw, event, refused, now, channel)


def _parse(body: bytes):
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        return {"body": body[:1000].decode("utf-8", "replace")}, _Refused("invalid", f"not JSON: {exc}")
    if not isinstance(raw, dict):
        return {"body": raw}, _Refused("invalid", "an event must be a JSON object")
    try:
        head = _Event.model_validate(raw)
        return raw, MODELS[head.type].model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in exc.errors())
        return raw, _Refused("invalid", f"malformed event: {problems}")


def _apply(conn: Connection, event, raw: dict, now: datetime, on_received: OnReceived | None) -> int:
    e = inbound_event.c
    earlier = conn.execute(select(e.received_utc).where(e.applied_key == event.event_id)).scalar()
    if earlier is not None:
        raise _Refused(
            "duplicate", f"event {event.event_id!r} was applied already (received {earlier:%Y-%m-%d %H:%M} UTC)"
        )
    if isinstance(event, _Ack):
        entity, plant_id = f"outbox:{event.outbox_id}", None
        state = store.acknowledge(
            conn, event.outbox_id, event.accepted, event.document_number, event.reason, now, f"inbound:{event.event_id}"
        )
        if state is None:
            raise _Refused("invalid", f"acknowledgement for outbox request #{event.outbox_id}, which does not exist")
    else:
        plant_id = event.plant
        if conn.execute(select(plant.c.plant_id).where(plant.c.plant_id == plant_id)).first() is None:
            raise _Refused("out_of_scope", f"unknown plant {plant_id!r}")
        entity = _process(conn, event, now, on_received)
    return conn.execute(
        inbound_event.insert()
        .values(
            event_id=event.event_id,
            applied_key=event.event_id,
            event_type=event.type,
            plant_id=plant_id,
            entity_key=entity,
            occurred_utc=event.occurred_utc,
            received_utc=now,
            status="applied",
            raw=raw,
        )
        .returning(e.inbound_id)
    ).scalar_one()


def _process(conn: Connection, event, now: datetime, on_received: OnReceived | None) -> str:
    source = "work_orders" if event.type == "work_order_completion" else "purchase_orders"
    ctx = _context(conn, event.plant, source, now)
    occurred = event.occurred_utc.astimezone(timezone.utc)
    local_day = pd.Timestamp(occurred).tz_convert(ctx.zone).date().isoformat()
    if source == "purchase_orders":
        po_id = event.po_number if event.po_number.startswith(f"{event.plant}-") else f"{event.plant}-{event.po_number}"
        entity = f"po:{po_id}"
        _in_order(conn, entity, occurred)
        known = (
            conn.execute(
                select(purchase_order).where(purchase_order.c.plant_id == event.plant, purchase_order.c.po_id == po_id)
            )
            .mappings()
            .first()
        )
        row = {
            "plant": event.plant,
            "po_number": event.po_number,
            "material": event.material,
            "supplier": event.supplier or "",
            "qty": str(event.qty),
            "ordered_day": local_day,
            "promised_day": event.promised_day.isoformat() if event.promised_day else "",
            "received_day": "",
            "status": "open",
        }
        if event.type == "goods_receipt":
            if known is None:
                raise _Refused(
                    "out_of_order",
                    f"goods receipt for purchase order {event.po_number}, whose "
                    "confirmation has not arrived (the warehouse does not know it)",
                )
            row.update(
                supplier=event.supplier or known["supplier_id"],
                qty=str(known["qty"]),
                ordered_day=_day(known["ordered_day"]),
                promised_day=_day(known["promised_day"]),
                received_day=local_day,
                status="received",
            )
        elif known is not None and known["status"] == "received":
            raise _Refused(
                "out_of_order", f"confirmation of purchase order {event.po_number}, which was received already"
            )
        records = _validated(conn, ctx, row)
        record = records.iloc[0]
        if event.type == "goods_receipt":
            if record["material_id"] != known["material_id"]:
                raise _Refused(
                    "invalid",
                    f"goods receipt of material {record['material_id']} for purchase order "
                    f"{event.po_number}, which is for {known['material_id']}",
                )
            if event.qty <= 0:
                raise _Refused("invalid", f"received qty {event.qty:g} is not positive")
        facts.delete_keys(conn, source, event.plant, [po_id])
        bulk.bulk_insert(conn, purchase_order, records)
        if event.type == "goods_receipt":
            _goods_receipt(conn, event, record, date.fromisoformat(local_day), now, on_received)
        return entity
    wo_id = event.wo_number if event.wo_number.startswith(f"{event.plant}-") else f"{event.plant}-{event.wo_number}"
    entity = f"wo:{wo_id}"
    _in_order(conn, entity, occurred)
    known = (
        conn.execute(
            select(work_order).where(work_order.c.plant_id == event.plant, work_order.c.local_code == event.wo_number)
        )
        .mappings()
        .first()
    )
    created = event.created_utc or (known["created_utc"] if known is not None else None)
    row = {
        "plant": event.plant,
        "wo_number": event.wo_number,
        "asset": event.asset or (known["asset_id"] if known is not None else ""),
        "wo_type": event.wo_type or (known["wo_type"] if known is not None else ""),
        "status": "closed",
        "created": "" if created is None else _iso(created),
        "completed": occurred.isoformat(),
    }
    records = _validated(conn, ctx, row)
    facts.delete_keys(conn, source, event.plant, [event.wo_number])
    bulk.bulk_insert(conn, work_order, records)
    return entity


def _context(conn, plant_id: str, source: str, now: datetime):
    mapping = parse_mapping(
        {"plant": plant_id, "source": source, "columns": {f.name: f.name for f in SOURCES[source].fields}}
    )
    try:
        return build_context(conn, plant_id, mapping.with_codes(reviewed_codes(conn, plant_id)), pd.Timestamp(now))
    except IngestError as exc:
        raise _Refused("invalid", str(exc)) from None


def _validated(conn: Connection, ctx, row: dict) -> pd.DataFrame:
    """The event's row through the ingest's validation and mapping: the canonical record (one row), or
    _Refused with the ingest's reasons (an unmapped code goes to the review list)."""
    parsed = transform(ctx, pd.DataFrame([row], dtype=object))
    if parsed.reasons.iloc[0]:
        raise _Refused(parsed.category.iloc[0] or "invalid", parsed.reasons.iloc[0], parsed.unmapped)
    return parsed.records.drop(columns=["natural_key", "row_hash", "_day"], errors="ignore")


def _review(conn: Connection, plant_id: str, kind: str, code: str, now: datetime) -> None:
    """Put an unknown local code on the plant's review list (or count it again there)."""
    u = unmapped_code.c
    where = (u.plant_id == plant_id, u.kind == kind, u.local_code == code)
    if (
        conn.execute(
            update(unmapped_code).where(*where).values(occurrences=u.occurrences + 1, last_seen_utc=now, source=SOURCE)
        ).rowcount
        == 0
    ):
        conn.execute(
            unmapped_code.insert().values(
                plant_id=plant_id,
                kind=kind,
                local_code=code,
                source=SOURCE,
                occurrences=1,
                first_seen_utc=now,
                last_seen_utc=now,
                status="open",
            )
        )


def _in_order(conn: Connection, entity: str, occurred: datetime) -> None:
    e = inbound_event.c
    latest = conn.execute(
        select(func.max(e.occurred_utc)).where(e.entity_key == entity, e.status == "applied")
    ).scalar()
    if latest is not None and _aware(latest) > occurred:
        raise _Refused(
            "out_of_order",
            f"occurred {occurred:%Y-%m-%d %H:%M} UTC, before an event already applied "
            f"to {entity.split(':', 1)[1]} ({_aware(latest):%Y-%m-%d %H:%M} UTC)",
        )


def _goods_receipt(
    conn: Connection, event, record: pd.Series, day: date, now: datetime, on_received: OnReceived | None
) -> None:
    plant_id, material_id = event.plant, record["material_id"]
    i, d = inventory_snapshot.c, demand_daily.c
    last = conn.execute(
        select(i.day, i.on_hand)
        .where(i.plant_id == plant_id, i.material_id == material_id, i.day <= day)
        .order_by(i.day.desc())
        .limit(1)
    ).first()
    if last is not None and _day(last.day) == day.isoformat():
        conn.execute(
            update(inventory_snapshot)
            .where(i.plant_id == plant_id, i.material_id == material_id, i.day == day)
            .values(on_hand=i.on_hand + float(event.qty))
        )
    else:
        on_hand = 0.0
        if last is not None:
            consumed = conn.execute(
                select(func.coalesce(func.sum(d.qty), 0.0)).where(
                    d.plant_id == plant_id, d.material_id == material_id, d.day > last.day, d.day <= day
                )
            ).scalar()
            on_hand = max(float(last.on_hand) - float(consumed), 0.0)
        conn.execute(
            inventory_snapshot.insert().values(
                plant_id=plant_id, material_id=material_id, day=day, on_hand=on_hand + float(event.qty)
            )
        )
    outbox_id = store.awaiting_receipt(conn, plant_id, material_id, event.outbox_id)
    if outbox_id is None:
        return
    text = f"goods receipt of {event.qty:g} on purchase order {event.po_number} ({day.isoformat()})"
    store.mark_received(conn, outbox_id, now, text, f"inbound:{event.event_id}")
    if on_received is not None:
        on_received(
            conn,
            {
                "plant_id": plant_id,
                "outbox_id": outbox_id,
                "material_id": material_id,
                "po_id": record["po_id"],
                "qty": float(event.qty),
                "day": day.isoformat(),
                "event_id": event.event_id,
            },
        )


def _quarantine(engine: Engine, raw: dict, event, refused: _Refused, now: datetime, channel: str) -> Received:
    parsed = not isinstance(event, _Refused)
    plant_id = str(raw["plant"])[:32] if raw.get("plant") is not None else None
    with engine.begin() as conn:
        known = (
            plant_id is not None
            and conn.execute(select(plant.c.plant_id).where(plant.c.plant_id == plant_id)).first() is not None
        )
        inbound_id = conn.execute(
            inbound_event.insert()
            .values(
                event_id=(str(raw.get("event_id"))[:128] if raw.get("event_id") is not None else None),
                event_type=(str(raw.get("type"))[:32] if raw.get("type") is not None else None),
                plant_id=plant_id,
                occurred_utc=getattr(event, "occurred_utc", None) if parsed else None,
                received_utc=now,
                status="quarantined",
                category=refused.category,
                reason=refused.reason,
                raw=_json_safe(raw),
            )
            .returning(inbound_event.c.inbound_id)
        ).scalar_one()
        if known:
            conn.execute(
                quarantine.insert().values(
                    plant_id=plant_id,
                    source=SOURCE,
                    file_name=f"{channel} event {str(raw.get('event_id'))[:200]}",
                    row_number=inbound_id,
                    raw=_json_safe(raw),
                    reason=refused.reason,
                    created_utc=now,
                    resolved=False,
                    category=refused.category,
                )
            )
            for kind, code in refused.codes:
                _review(conn, plant_id, kind, code, now)
    return Received(inbound_id, "quarantined", refused.category, refused.reason)


def _json_safe(raw):
    return json.loads(json.dumps(raw, default=str))


def _day(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _iso(value) -> str:
    return _aware(value if isinstance(value, datetime) else datetime.fromisoformat(str(value))).isoformat()


def inbound_events(engine: Engine, scope: PlantScope, status: str | None = None, limit: int = 1000) -> pd.DataFrame:
    """Inbound events of plants in scope (acknowledgements are network-wide), newest first.

    Columns: inbound_id, event_id, event_type, plant_id, entity_key, occurred_utc,
    received_utc (both UTC), status (applied | quarantined), category, reason.
    """
    e = inbound_event.c
    stmt = (
        select(
            e.inbound_id,
            e.event_id,
            e.event_type,
            e.plant_id,
            e.entity_key,
            e.occurred_utc,
            e.received_utc,
            e.status,
            e.category,
            e.reason,
        )
        .order_by(e.inbound_id.desc())
        .limit(limit)
    )
    if not scope.is_network:
        stmt = stmt.where(scope.clause(e.plant_id))
    if status is not None:
        stmt = stmt.where(e.status == status)
    with engine.connect() as conn:
        frame = read_frame(conn, stmt)
    for name in ("occurred_utc", "received_utc"):
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    return frame
