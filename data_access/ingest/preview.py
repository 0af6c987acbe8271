"""The first rows of a file as a load would treat them, without writing anything."""

from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from data_access.ingest import facts
from data_access.ingest import mapping as mappings
from data_access.ingest.errors import IngestError
from data_access.ingest.loader import _check_columns, _check_request
from data_access.ingest.mapping import Mapping
from data_access.ingest.reader import open_reader
from data_access.ingest.transform import build_context, transform
from data_access.schema import ingest_row

PREVIEW_ROWS = 20
STATUS_COLUMNS = ["row_number", "status", "reason"]


@dataclass
class Preview:
    """`rows`: row_number (line or sheet row), status (new | replaces | unchanged |
    duplicate | rejected: <category>), reason, then the canonical columns the row would be
    stored with (UTC timestamps, plant-local days). `error` is set when the file cannot be
    loaded at all, and `rows` is then empty."""

    rows: pd.DataFrame
    header: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    error: str | None = None

    @property
    def counts(self) -> dict:
        return self.rows["status"].value_counts().to_dict() if len(self.rows) else {}


def preview(
    engine: Engine,
    plant_id: str,
    source: str,
    mapping: Mapping,
    file,
    file_name: str,
    rows: int = PREVIEW_ROWS,
    now: datetime | None = None,
) -> Preview:
    now = now or datetime.now(timezone.utc)
    empty = pd.DataFrame(columns=STATUS_COLUMNS)
    reader = None
    try:
        _check_request(plant_id, source, mapping)
        reader = open_reader(file, file_name, mapping.file)
        out = Preview(empty, list(reader.header), list(reader.notes))
        _check_columns(reader, mapping, out)
        chunk = next(reader.chunks(rows), None)
        if chunk is None:
            raise IngestError("the file has a header but no data rows")
        frame = chunk.frame.head(rows).reset_index(drop=True)
        numbers = pd.Series(chunk.row_numbers[: len(frame)], index=frame.index)
        with engine.connect() as conn:
            effective = mapping.with_codes(mappings.reviewed_codes(conn, plant_id))
            ctx = build_context(conn, plant_id, effective, pd.Timestamp(now))
            parsed = transform(ctx, frame)
            records = parsed.records
            status = pd.Series("", index=frame.index, dtype=object)
            status[parsed.reasons != ""] = "rejected: " + parsed.category[parsed.reasons != ""]
            repeat = records["natural_key"].duplicated(keep="first")
            i = ingest_row.c
            known = (
                dict(
                    conn.execute(
                        select(i.natural_key, i.row_hash).where(
                            i.plant_id == plant_id,
                            i.source == source,
                            i.natural_key.in_(list(records["natural_key"].unique())),
                        )
                    ).all()
                )
                if len(records)
                else {}
            )
            foreign = facts.existing_keys(conn, source, plant_id, records[~records["natural_key"].isin(known)])
        first_hash = dict(zip(records.loc[~repeat, "natural_key"], records.loc[~repeat, "row_hash"]))
        for index, key, row_hash, again in zip(records.index, records["natural_key"], records["row_hash"], repeat):
            if again:
                status[index] = "duplicate" if first_hash[key] == row_hash else "rejected: conflict"
            elif key in known:
                status[index] = "unchanged" if known[key] == row_hash else "replaces"
            else:
                status[index] = "replaces" if key in foreign else "new"
        shown = pd.DataFrame({"row_number": numbers, "status": status, "reason": parsed.reasons})
        canonical = records.drop(columns=["natural_key", "row_hash", "_day"], errors="ignore")
        out.rows = shown.join(canonical, how="left")
        for bad_row, reason, _ in chunk.bad[:rows]:
            out.rows = pd.concat(
                [out.rows, pd.DataFrame([{"row_number": bad_row, "status": "rejected: unreadable", "reason": reason}])],
                ignore_index=True,
            )
        out.rows = out.rows.sort_values("row_number", kind="stable").reset_index(drop=True)
        return out
    except IngestError as exc:
        return Preview(
            empty, list(getattr(reader, "header", []) or []), list(getattr(reader, "notes", []) or []), str(exc)
        )
    finally:
        if reader is not None:
            reader.close()
