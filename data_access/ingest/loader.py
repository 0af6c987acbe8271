"""Load a plant's export into the warehouse: validate, load, quarantine, review, feed status.

One load is one transaction, written chunk by chunk as the file streams in, so memory is
bounded by the chunk size and a load that fails part-way leaves the warehouse as it was.
A file that cannot be loaded at all (unreadable, empty, a mapped column missing, an unknown
plant, a mapping that names unknown codes) raises nothing past `load_file`: it returns a
`failed` result with the reason, recorded in `ingest_load`, and nothing else is written.

Per row, by natural key (see `facts`):
- new: inserted;
- replaced: the key is known with other values (a corrected row): the old row is deleted and
  the new one inserted;
- unchanged: the key is known with the same values (re-loading a file changes nothing);
- duplicate: the key appeared earlier in the same file with the same values (loaded once);
- conflict: the key appeared earlier in the same file with other values: quarantined;
- rejected: quarantined with every reason; a row waiting only for a local code to be mapped
  is counted as `unmapped` and its code goes to the review list.

A load may name earlier loads it `replaces` (a corrected file): rows those loads delivered
that the new file no longer contains are deleted. The daily marts of the plant are
refreshed after a load that changed any fact.
"""

import getpass
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Engine

from data_access import bulk, marts
from data_access import jobs as jobs_store
from data_access.ingest import facts
from data_access.ingest import mapping as mappings
from data_access.ingest.errors import IngestError
from data_access.ingest.mapping import Mapping
from data_access.ingest.reader import RawChunk, file_sha256, open_reader
from data_access.ingest.sources import CODE_KIND_LABELS, REVIEWABLE, SOURCES, VOCABULARIES
from data_access.ingest.transform import MAX_RAW, build_context, transform
from data_access.schema import feed_status, ingest_load, ingest_row, quarantine, unmapped_code

DEFAULT_CHUNK_ROWS = 50_000
RETRY_FILE_NAME = "(quarantine re-try)"
Progress = Callable[[float, str], None]
Audit = Callable[[object, "LoadResult"], None]


@dataclass
class LoadResult:
    """What a load did. `status`: loaded | partial (some rows quarantined) | nothing_loaded |
    failed (the file as a whole could not be loaded; `error` says why)."""

    plant_id: str
    source: str
    file_name: str
    status: str = "failed"
    load_id: int | None = None
    mapping_version: int | None = None
    rows_read: int = 0
    inserted: int = 0
    replaced: int = 0
    unchanged: int = 0
    duplicates: int = 0
    quarantined: int = 0
    unmapped: int = 0
    removed: int = 0
    resolved: int = 0  # open quarantine rows this load loaded after all
    unmapped_codes: dict = field(default_factory=dict)  # (kind, code) -> rows
    first_day: date | None = None
    last_day: date | None = None
    notes: list = field(default_factory=list)
    error: str | None = None
    marts_rows: int | None = None
    marts_error: str | None = None

    @property
    def loadable(self) -> int:
        """Rows that are in the warehouse as the file has them after this load."""
        return self.inserted + self.replaced + self.unchanged + self.duplicates

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.replaced or self.removed)

    @property
    def exit_code(self) -> int:
        """0 rows loaded; 1 none could be; 2 the file could not be loaded at all; 3 loaded but
        the marts refresh failed."""
        if self.status == "failed":
            return 2
        if self.marts_error:
            return 3
        return 0 if self.loadable else 1

    def summary(self) -> str:
        if self.status == "failed":
            return f"{self.file_name}: not loaded: {self.error}"
        parts = [
            f"{self.rows_read:,} rows read",
            f"{self.inserted:,} loaded",
            f"{self.replaced:,} replaced",
            f"{self.unchanged:,} unchanged",
            f"{self.duplicates:,} duplicates",
            f"{self.quarantined:,} quarantined",
        ]
        if self.unmapped:
            parts.append(f"{self.unmapped:,} waiting for {len(self.unmapped_codes)} unmapped code(s)")
        if self.removed:
            parts.append(f"{self.removed:,} removed (no longer in the corrected file)")
        if self.resolved:
            parts.append(f"{self.resolved:,} earlier quarantined rows now loaded")
        head = (
            f"{self.file_name} -> {self.plant_id}/{self.source} (load {self.load_id}, mapping v{self.mapping_version})"
        )
        return head + ": " + ", ".join(parts)


def default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except Exception:  # noqa: BLE001 - no user name in a container: still a command-line load
        return "cli"


def load_file(
    engine: Engine,
    plant_id: str,
    source: str,
    mapping: Mapping,
    file,
    *,
    file_name: str | None = None,
    actor: str | None = None,
    replaces=(),
    progress: Progress | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    audit: Audit | None = None,
    now: datetime | None = None,
    refresh_marts: bool = True,
) -> LoadResult:
    """Load `file` (a path or a binary file object) for one plant and source with `mapping`.

    `audit(conn, result)`, when given, runs inside the load's transaction after everything
    else (the app passes the audit chain's append). Returns a LoadResult; never raises for a
    bad file (status `failed`), only for a broken warehouse or a bug.
    """
    file_name = file_name or (Path(file).name if isinstance(file, (str, Path)) else "upload")
    result = LoadResult(plant_id, source, file_name)
    actor = actor or default_actor()
    now = now or datetime.now(timezone.utc)
    report = progress or (lambda fraction, message: None)
    reader = None
    try:
        _check_request(plant_id, source, mapping)
        digest = file_sha256(file)
        reader = open_reader(file, file_name, mapping.file)
        result.notes.extend(reader.notes)
        _check_columns(reader, mapping, result)
        with engine.begin() as conn:
            job = _Job.start(conn, result, mapping, actor, now, replaces, digest)
            for chunk in reader.chunks(chunk_rows):
                job.process(chunk)
                report(0.9 * reader.position, f"Loading {file_name}: {result.rows_read:,} rows read")
            if result.rows_read == 0:
                raise IngestError("the file has a header but no data rows")
            job.finish(audit)
    except IngestError as exc:
        result.status, result.error = "failed", str(exc)
        result.load_id = _record_failure(engine, result, actor, now)
        return result
    finally:
        if reader is not None:
            reader.close()
    _refresh(engine, result, refresh_marts, report)
    return result


def retry_quarantine(
    engine: Engine,
    plant_id: str,
    source: str,
    *,
    actor: str | None = None,
    progress: Progress | None = None,
    audit: Audit | None = None,
    now: datetime | None = None,
    chunk_rows: int = 10_000,
    refresh_marts: bool = True,
) -> LoadResult:
    """Run the plant's open quarantine rows of `source` again through the newest stored mapping
    (plus the codes mapped in the review list since). Rows that load now are resolved; the
    others keep their place with today's reasons. Unreadable rows (wrong field count) stay."""
    result = LoadResult(plant_id, source, RETRY_FILE_NAME)
    actor = actor or default_actor()
    now = now or datetime.now(timezone.utc)
    report = progress or (lambda fraction, message: None)
    q = quarantine.c
    try:
        with engine.connect() as conn:
            stored = mappings.latest(conn, plant_id, source)
        if stored is None:
            raise IngestError(f"no mapping is stored for {plant_id}/{source} yet: load a file first")
        mapping, _ = stored
        open_rows = (
            q.plant_id == plant_id,
            q.source == source,
            q.resolved.is_(False),
            func.coalesce(q.category, "invalid") != "unreadable",
        )
        with engine.begin() as conn:
            total = conn.execute(select(func.count()).where(*open_rows)).scalar_one()
            if total == 0:
                raise IngestError(f"no open quarantine rows for {plant_id}/{source} to re-try")
            job = _Job.start(conn, result, mapping, actor, now, (), None)
            last_id, done = 0, 0
            while True:
                rows = conn.execute(
                    select(q.quarantine_id, q.row_number, q.raw)
                    .where(*open_rows, q.quarantine_id > last_id)
                    .order_by(q.quarantine_id)
                    .limit(chunk_rows)
                ).all()
                if not rows:
                    break
                last_id = rows[-1].quarantine_id
                raws = [json.loads(r.raw) if isinstance(r.raw, str) else r.raw for r in rows]
                frame = pd.DataFrame(raws, dtype=object).fillna("").astype(str)
                for name in mapping.columns:  # rows from a file that lacked a column
                    column = mapping.field_spec(name).column
                    if column is not None and column not in frame.columns:
                        frame[column] = ""
                chunk = RawChunk(frame, np.array([r.row_number for r in rows], dtype=np.int64))
                job.process(chunk, quarantine_ids=np.array([r.quarantine_id for r in rows]))
                done += len(rows)
                report(0.9 * done / total, f"Re-trying quarantined rows: {done:,} of {total:,}")
            job.finish(audit)
    except IngestError as exc:
        result.status, result.error = "failed", str(exc)
        return result
    _refresh(engine, result, refresh_marts, report)
    return result


def _refresh(engine, result, refresh_marts, report):
    if result.changed and refresh_marts:
        report(0.9, "Refreshing the plant's daily marts")
        try:
            result.marts_rows = marts.refresh(
                engine,
                plant_ids=[result.plant_id],
                progress=lambda fraction, message: report(0.9 + 0.1 * fraction, message),
            )
        except Exception as exc:  # noqa: BLE001 - the load is committed; say the marts lag behind
            result.marts_error = f"{type(exc).__name__}: {exc}"
            result.notes.append(
                f"the rows are loaded, but the daily marts could not be refreshed "
                f"({result.marts_error}); they catch up on the next load or refresh"
            )
    report(1.0, "Done")


def _check_request(plant_id, source, mapping):
    if source not in SOURCES:
        raise IngestError(f"unknown source {source!r} (known: {', '.join(SOURCES)})")
    if mapping.source != source:
        raise IngestError(f"the mapping is for source {mapping.source!r}, not {source!r}")
    if mapping.plant != plant_id:
        raise IngestError(f"the mapping is for plant {mapping.plant!r}, not {plant_id!r}")


def _check_columns(reader, mapping, result):
    header = reader.header
    wanted = {}
    for name in mapping.columns:
        spec = mapping.field_spec(name)
        if spec.column is not None:
            wanted[name] = spec.column
    missing = [f"{column!r} (for {name})" for name, column in wanted.items() if column not in header]
    if missing:
        hint = ""
        if len(header) == 1:
            used = [d for d in (",", ";", "\t", "|") if d in header[0] and d != reader.delimiter]
            if used:
                hint = (
                    f"; the header reads as one column {header[0][:80]!r}: is the delimiter "
                    f"{used[0]!r}? Set file.delimiter in the mapping"
                )
        raise IngestError(
            f"missing column(s) {', '.join(missing)}; the file's columns are: "
            f"{', '.join(repr(h) for h in header[:30])}{hint}"
        )
    ignored = [h for h in header if h not in wanted.values()]
    if ignored:
        result.notes.append(
            f"columns not in the mapping, ignored: {', '.join(ignored[:20])}" + (" ..." if len(ignored) > 20 else "")
        )


def _record_failure(engine, result, actor, now) -> int | None:
    """A failed load is logged (when its plant exists) so the steward sees it in the history."""
    from data_access.schema import plant

    try:
        with engine.begin() as conn:
            if conn.execute(select(plant.c.plant_id).where(plant.c.plant_id == result.plant_id)).first() is None:
                return None
            return conn.execute(
                ingest_load.insert()
                .values(
                    plant_id=result.plant_id,
                    source=result.source[:32],
                    file_name=result.file_name[:260],
                    actor=actor,
                    started_utc=now,
                    finished_utc=datetime.now(timezone.utc),
                    status="failed",
                    rows_read=0,
                    inserted=0,
                    replaced=0,
                    unchanged=0,
                    duplicates=0,
                    quarantined=0,
                    unmapped=0,
                    removed=0,
                    message=(result.error or "")[:4000],
                )
                .returning(ingest_load.c.load_id)
            ).scalar_one()
    except Exception:  # noqa: BLE001 - the log is a courtesy; the failure itself is returned
        return None


def _raw_hashes(frame: pd.DataFrame) -> pd.Series:
    if frame.empty:
        return pd.Series(dtype=object)
    return pd.util.hash_pandas_object(frame, index=False).map("{:016x}".format)


def _bad_hash(raw: dict) -> str:
    return hashlib.blake2b(json.dumps(raw, sort_keys=True, ensure_ascii=False).encode(), digest_size=8).hexdigest()


def _truncate(value: str) -> str:
    return value if len(value) <= MAX_RAW else value[:MAX_RAW] + f"... [{len(value):,} characters]"


class _Job:
    """The state of one load inside its transaction."""

    @classmethod
    def start(cls, conn, result, mapping, actor, now, replaces, digest):
        job = cls()
        job.conn, job.result, job.actor, job.now = conn, result, actor, now
        plant_id, source = result.plant_id, result.source
        effective = mapping.with_codes(mappings.reviewed_codes(conn, plant_id))
        job.ctx = build_context(conn, plant_id, effective, pd.Timestamp(now))
        job.mapping = effective
        mapping_id, version = mappings.register(conn, effective, actor, now)
        result.mapping_version = version
        job.replaces = _check_replaces(conn, plant_id, source, replaces)
        result.load_id = conn.execute(
            ingest_load.insert()
            .values(
                plant_id=plant_id,
                source=source,
                file_name=result.file_name[:260],
                file_sha256=digest,
                mapping_id=mapping_id,
                mapping_version=version,
                actor=actor,
                started_utc=now,
                status="running",
                rows_read=0,
                inserted=0,
                replaced=0,
                unchanged=0,
                duplicates=0,
                quarantined=0,
                unmapped=0,
                removed=0,
                replaces=list(job.replaces),
            )
            .returning(ingest_load.c.load_id)
        ).scalar_one()
        q = quarantine.c
        job.open_quarantine = (
            conn.execute(
                select(func.count()).where(q.plant_id == plant_id, q.source == source, q.resolved.is_(False))
            ).scalar_one()
            > 0
        )
        job.days = []
        return job

    # --- one chunk -----------------------------------------------------------------------------

    def process(self, chunk: RawChunk, quarantine_ids=None):
        r, conn, src = self.result, self.conn, self.ctx.source
        frame = chunk.frame.reset_index(drop=True)
        numbers = pd.Series(chunk.row_numbers, index=frame.index)
        r.rows_read += len(frame) + len(chunk.bad)
        parsed = transform(self.ctx, frame)
        reasons, category = parsed.reasons.copy(), parsed.category.copy()

        records = parsed.records
        # the same natural key twice in this chunk: the first is kept
        repeat = records["natural_key"].duplicated(keep="first")
        if repeat.any():
            firsts = records[~repeat]
            first_hash = pd.Series(firsts["row_hash"].to_numpy(), index=firsts["natural_key"].to_numpy())
            first_row = pd.Series(numbers[firsts.index].to_numpy(), index=firsts["natural_key"].to_numpy())
            keys = records.loc[repeat, "natural_key"]
            same = records.loc[repeat, "row_hash"].to_numpy() == keys.map(first_hash).to_numpy()
            r.duplicates += int(same.sum())
            self._conflict(keys.index[~same], keys[~same].map(first_row), reasons, category)
            records = records[~repeat]

        lineage = self._lineage(records["natural_key"])
        known = (
            records["natural_key"].map(lineage["row_hash"])
            if len(lineage)
            else pd.Series(np.nan, index=records.index, dtype=object)
        )
        known_load = records["natural_key"].map(lineage["load_id"]) if len(lineage) else known
        known_row = records["natural_key"].map(lineage["row_number"]) if len(lineage) else known
        this_load = known_load == r.load_id
        same_hash = known == records["row_hash"]
        dup = this_load & same_hash
        conflict = this_load & ~same_hash
        r.duplicates += int(dup.sum())
        self._conflict(records.index[conflict], known_row[conflict], reasons, category)
        unchanged = known.notna() & ~this_load & same_hash
        replaced = known.notna() & ~this_load & ~same_hash
        new = known.isna()
        foreign = facts.existing_keys(conn, src.name, self.ctx.plant_id, records[new]) if new.any() else set()
        new_foreign = new & records["natural_key"].isin(foreign)

        to_delete = records.loc[replaced | new_foreign, "natural_key"]
        facts.delete_keys(conn, src.name, self.ctx.plant_id, to_delete)
        to_insert = records[replaced | new]
        bulk.bulk_insert(conn, src.table, to_insert)
        r.inserted += int((new & ~new_foreign).sum())
        r.replaced += int((replaced | new_foreign).sum())
        r.unchanged += int(unchanged.sum())
        loaded = records[new | replaced | unchanged]
        if len(loaded):
            self.days.append(facts.days_of(loaded))

        lineage_rows = pd.DataFrame(
            {
                "plant_id": self.ctx.plant_id,
                "source": src.name,
                "natural_key": records["natural_key"],
                "row_hash": records["row_hash"],
                "load_id": r.load_id,
                "row_number": numbers[records.index],
            }
        )
        bulk.bulk_insert(conn, ingest_row, lineage_rows[new.to_numpy()])
        self._update_lineage(lineage_rows[(replaced | unchanged).to_numpy()])

        for (kind, code), n in parsed.unmapped.items():
            if code:
                key = (kind, code)
                r.unmapped_codes[key] = r.unmapped_codes.get(key, 0) + n
        self._quarantine(frame, numbers, reasons, category, chunk.bad, quarantine_ids)

    def _conflict(self, index, earlier_rows, reasons, category):
        if len(index) == 0:
            return
        keys = ", ".join(self.ctx.source.natural_key)
        message = (
            f"conflicting duplicate: the same {keys} as row "
            + earlier_rows.astype("Int64").astype(str)
            + " of this load, with other values (the first one was kept)"
        )
        current = reasons[index]
        reasons[index] = np.where(current == "", message.to_numpy(), current + "; " + message.to_numpy())
        category[index] = "conflict"

    def _lineage(self, keys: pd.Series) -> pd.DataFrame:
        rows = facts.lookup_lineage(self.conn, self.ctx.plant_id, self.ctx.source.name, keys.unique())
        frame = pd.DataFrame(rows, columns=["natural_key", "row_hash", "load_id", "row_number"])
        return frame.set_index("natural_key")

    def _update_lineage(self, rows: pd.DataFrame):
        if rows.empty:
            return
        i = ingest_row.c
        stmt = (
            update(ingest_row)
            .where(
                i.plant_id == bindparam("b_plant"),
                i.source == bindparam("b_source"),
                i.natural_key == bindparam("b_key"),
            )
            .values(row_hash=bindparam("b_hash"), load_id=bindparam("b_load"), row_number=bindparam("b_row"))
        )
        self.conn.execute(
            stmt,
            [
                {"b_plant": p, "b_source": s, "b_key": k, "b_hash": h, "b_load": int(lo), "b_row": int(n)}
                for p, s, k, h, lo, n in rows[
                    ["plant_id", "source", "natural_key", "row_hash", "load_id", "row_number"]
                ].itertuples(index=False)
            ],
        )

    def _quarantine(self, frame, numbers, reasons, category, bad, quarantine_ids):
        r, conn, q = self.result, self.conn, quarantine.c
        rejected = (reasons != "").to_numpy()
        loaded_ok = ~rejected
        if quarantine_ids is None:  # raw hashes: of every row when some may be waiting already
            if self.open_quarantine:
                hashes = _raw_hashes(frame)
            else:
                hashes = pd.Series(None, index=frame.index, dtype=object)
                if rejected.any():
                    hashes[rejected] = _raw_hashes(frame[rejected]).to_numpy()
        r.quarantined += int(rejected.sum()) + len(bad)
        r.unmapped += int((category[rejected] == "unmapped").sum())
        resolution = f"loaded by load {r.load_id}"
        if quarantine_ids is not None:  # a re-try: update the quarantine rows in place
            if loaded_ok.any():
                conn.execute(
                    update(quarantine)
                    .where(q.quarantine_id.in_([int(i) for i in quarantine_ids[loaded_ok]]))
                    .values(resolved=True, resolution=resolution, resolved_utc=self.now)
                )
                r.resolved += int(loaded_ok.sum())
            if rejected.any():
                conn.execute(
                    update(quarantine)
                    .where(q.quarantine_id == bindparam("b_id"))
                    .values(reason=bindparam("b_reason"), category=bindparam("b_cat"), load_id=r.load_id),
                    [
                        {"b_id": int(i), "b_reason": reason, "b_cat": cat}
                        for i, reason, cat in zip(quarantine_ids[rejected], reasons[rejected], category[rejected])
                    ],
                )
            return
        sub = frame[rejected]
        rows = pd.DataFrame(
            {
                "plant_id": self.ctx.plant_id,
                "source": self.ctx.source.name,
                "file_name": r.file_name[:260],
                "row_number": numbers[rejected].to_numpy(),
                "raw": sub.map(_truncate).to_dict("records") if len(sub) else [],
                "reason": reasons[rejected].to_numpy(),
                "created_utc": self.now,
                "resolved": False,
                "load_id": r.load_id,
                "category": category[rejected].to_numpy(),
                "raw_hash": hashes[rejected].to_numpy() if len(sub) else [],
            }
        )
        if bad:
            rows = pd.concat(
                [
                    rows,
                    pd.DataFrame(
                        {
                            "plant_id": self.ctx.plant_id,
                            "source": self.ctx.source.name,
                            "file_name": r.file_name[:260],
                            "row_number": [b[0] for b in bad],
                            "raw": [{k: _truncate(v) for k, v in b[2].items()} for b in bad],
                            "reason": [b[1] for b in bad],
                            "created_utc": self.now,
                            "resolved": False,
                            "load_id": r.load_id,
                            "category": "unreadable",
                            "raw_hash": [_bad_hash(b[2]) for b in bad],
                        }
                    ),
                ],
                ignore_index=True,
            )
        if self.open_quarantine:
            # the same raw row is already waiting: refresh its reason instead of a second copy;
            # a row waiting there that loads now is resolved
            waiting = self._waiting(
                pd.concat([rows["raw_hash"], hashes[loaded_ok]]) if len(rows) else hashes[loaded_ok]
            )
            again = rows["raw_hash"].isin(waiting)
            if again.any():  # a reason that changed (a new mapping) is brought up to date
                changed = rows[again].merge(
                    pd.DataFrame(waiting.values(), columns=["raw_hash", "old_reason", "old_cat"]), on="raw_hash"
                )
                changed = changed[
                    (changed["reason"] != changed["old_reason"]) | (changed["category"] != changed["old_cat"])
                ]
                if len(changed):
                    conn.execute(
                        update(quarantine)
                        .where(
                            q.plant_id == self.ctx.plant_id,
                            q.source == self.ctx.source.name,
                            q.resolved.is_(False),
                            q.raw_hash == bindparam("b_hash"),
                        )
                        .values(reason=bindparam("b_reason"), category=bindparam("b_cat"), load_id=r.load_id),
                        [
                            {"b_hash": h, "b_reason": reason, "b_cat": cat}
                            for h, reason, cat in changed[["raw_hash", "reason", "category"]].itertuples(index=False)
                        ],
                    )
                rows = rows[~again]
            now_loaded = [h for h in hashes[loaded_ok] if h in waiting]
            if now_loaded:
                done = conn.execute(
                    update(quarantine)
                    .where(
                        q.plant_id == self.ctx.plant_id,
                        q.source == self.ctx.source.name,
                        q.resolved.is_(False),
                        q.raw_hash.in_(now_loaded),
                    )
                    .values(resolved=True, resolution=resolution, resolved_utc=self.now)
                )
                r.resolved += max(done.rowcount, 0)
        if len(rows):
            bulk.bulk_insert(conn, quarantine, rows)

    def _waiting(self, hashes: pd.Series) -> dict:
        """Open quarantine rows of the plant's source among these raw hashes: hash -> (hash, reason, category)."""
        q = quarantine.c
        return {
            row[0]: tuple(row)
            for row in facts._in_batches(
                self.conn,
                lambda b: select(q.raw_hash, q.reason, q.category).where(
                    q.plant_id == self.ctx.plant_id,
                    q.source == self.ctx.source.name,
                    q.resolved.is_(False),
                    q.raw_hash.in_(b),
                ),
                hashes.dropna().unique(),
            )
        }

    # --- the end of the load --------------------------------------------------------------------

    def finish(self, audit):
        r, conn = self.result, self.conn
        if self.replaces:
            r.removed = self._supersede()
        spans = [s for s in self.days if s]
        if spans:
            r.first_day = min(s[0] for s in spans)
            r.last_day = max(s[1] for s in spans)
        self._review_list()
        if r.changed:
            self._feed_status()
            # the worker's pipeline for this plant: marts -> forecasts -> risk -> orchestration
            jobs_store.request(conn, "load", self.actor, plant_id=self.ctx.plant_id, load_id=r.load_id, now=self.now)
        r.status = "nothing_loaded" if not r.loadable else "partial" if r.quarantined else "loaded"
        conn.execute(
            update(ingest_load)
            .where(ingest_load.c.load_id == r.load_id)
            .values(
                finished_utc=datetime.now(timezone.utc),
                status=r.status,
                rows_read=r.rows_read,
                inserted=r.inserted,
                replaced=r.replaced,
                unchanged=r.unchanged,
                duplicates=r.duplicates,
                quarantined=r.quarantined,
                unmapped=r.unmapped,
                removed=r.removed,
                first_day=r.first_day,
                last_day=r.last_day,
                message="; ".join(r.notes)[:4000] or None,
            )
        )
        if audit is not None:
            audit(conn, r)

    def _supersede(self) -> int:
        """Delete what the replaced loads delivered and this load did not deliver again."""
        i = ingest_row.c
        where = (i.plant_id == self.ctx.plant_id, i.source == self.ctx.source.name, i.load_id.in_(self.replaces))
        keys = self.conn.execute(select(i.natural_key).where(*where)).scalars().all()
        facts.delete_keys(self.conn, self.ctx.source.name, self.ctx.plant_id, keys)
        self.conn.execute(ingest_row.delete().where(*where))
        return len(keys)

    def _review_list(self):
        u = unmapped_code.c
        for (kind, code), n in self.result.unmapped_codes.items():
            existing = self.conn.execute(
                select(u.status).where(u.plant_id == self.ctx.plant_id, u.kind == kind, u.local_code == code)
            ).first()
            if existing is None:
                self.conn.execute(
                    unmapped_code.insert().values(
                        plant_id=self.ctx.plant_id,
                        kind=kind,
                        local_code=code,
                        source=self.ctx.source.name,
                        occurrences=n,
                        first_seen_utc=self.now,
                        last_seen_utc=self.now,
                        last_load_id=self.result.load_id,
                        status="open",
                    )
                )
            else:
                self.conn.execute(
                    update(unmapped_code)
                    .where(u.plant_id == self.ctx.plant_id, u.kind == kind, u.local_code == code)
                    .values(
                        occurrences=n,
                        last_seen_utc=self.now,
                        last_load_id=self.result.load_id,
                        source=self.ctx.source.name,
                        status="open",
                        canonical_code=None,
                        resolved_by=None,
                        resolved_utc=None,
                    )
                )

    def _feed_status(self):
        f = feed_status.c
        feed = self.ctx.source.feed
        cadence = self.mapping.expected_cadence_h
        where = (f.plant_id == self.ctx.plant_id, f.source == feed)
        if self.conn.execute(select(f.source).where(*where)).first() is None:
            self.conn.execute(
                feed_status.insert().values(
                    plant_id=self.ctx.plant_id,
                    source=feed,
                    last_received_utc=self.now,
                    expected_cadence_h=cadence or self.ctx.source.default_cadence_h,
                )
            )
        else:
            values = {"last_received_utc": self.now}
            if cadence:
                values["expected_cadence_h"] = cadence
            self.conn.execute(update(feed_status).where(*where).values(**values))


def _check_replaces(conn, plant_id, source, replaces) -> tuple[int, ...]:
    ids = tuple(dict.fromkeys(int(x) for x in replaces))
    if not ids:
        return ()
    l = ingest_load.c
    found = {r.load_id: r for r in conn.execute(select(l.load_id, l.plant_id, l.source).where(l.load_id.in_(ids)))}
    for load_id in ids:
        row = found.get(load_id)
        if row is None:
            raise IngestError(f"--replaces {load_id}: there is no such load")
        if (row.plant_id, row.source) != (plant_id, source):
            raise IngestError(
                f"--replaces {load_id}: that load was for {row.plant_id}/{row.source}, not {plant_id}/{source}"
            )
    return ids


# --- the review list ---------------------------------------------------------------------------


def canonical_codes(conn, plant_id: str, kind: str) -> dict[str, str]:
    """Canonical codes a local code of `kind` may be mapped to at the plant: code -> label."""
    from data_access.schema import asset, downtime_reason, line, material, supplier

    if kind == "asset":
        rows = conn.execute(
            select(asset.c.asset_id, asset.c.local_name).where(asset.c.plant_id == plant_id).order_by(asset.c.asset_id)
        ).all()
    elif kind == "line":
        rows = conn.execute(
            select(line.c.line_id, line.c.name).where(line.c.plant_id == plant_id).order_by(line.c.line_id)
        ).all()
    elif kind == "material":
        rows = conn.execute(select(material.c.material_id, material.c.name).order_by(material.c.material_id)).all()
    elif kind == "supplier":
        rows = conn.execute(select(supplier.c.supplier_id, supplier.c.name).order_by(supplier.c.supplier_id)).all()
    elif kind == "reason":
        rows = conn.execute(
            select(downtime_reason.c.reason_code, downtime_reason.c.description).order_by(downtime_reason.c.reason_code)
        ).all()
    elif kind in VOCABULARIES:
        rows = [(v, v) for v in VOCABULARIES[kind]]
    else:
        raise IngestError(f"unknown code kind {kind!r} (known: {', '.join(REVIEWABLE)})")
    return {code: f"{code} ({label})" if label and label != code else code for code, label in rows}


def map_code(
    engine: Engine,
    plant_id: str,
    kind: str,
    local_code: str,
    canonical_code: str,
    *,
    actor: str,
    audit: Callable | None = None,
    now: datetime | None = None,
) -> None:
    """Map a local code of the review list to a canonical one; `audit(conn, detail)` runs in the
    same transaction. Later loads and quarantine re-tries of the plant apply the mapping."""
    now = now or datetime.now(timezone.utc)
    u = unmapped_code.c
    with engine.begin() as conn:
        row = conn.execute(
            select(u.status, u.canonical_code).where(u.plant_id == plant_id, u.kind == kind, u.local_code == local_code)
        ).first()
        if row is None:
            raise IngestError(
                f"{CODE_KIND_LABELS.get(kind, kind)} {local_code!r} is not in the review list of {plant_id}"
            )
        options = canonical_codes(conn, plant_id, kind)
        if canonical_code not in options:
            raise IngestError(f"{canonical_code!r} is not a {CODE_KIND_LABELS[kind]} of {plant_id}")
        conn.execute(
            update(unmapped_code)
            .where(u.plant_id == plant_id, u.kind == kind, u.local_code == local_code)
            .values(status="mapped", canonical_code=canonical_code, resolved_by=actor[:64], resolved_utc=now)
        )
        if audit is not None:
            audit(
                conn,
                {
                    "kind": kind,
                    "local_code": local_code,
                    "canonical_code": canonical_code,
                    "previous": row.canonical_code,
                },
            )
