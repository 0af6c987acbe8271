"""The ingest on SQLite and PostgreSQL: the bad-file corpus, idempotence, corrections,
time zones, rollback, the review list, quarantine re-try, Excel and the command line."""

from datetime import date, datetime, timezone

import pandas as pd
import pytest
import yaml
from sqlalchemy import select, text

from data_access.ingest import (
    IngestError,
    load_file,
    map_code,
    parse_mapping,
    preview,
    retry_quarantine,
)
from data_access.ingest import loader as loader_module
from data_access.ingest.__main__ import main as cli
from data_access.schema import (
    downtime_event,
    feed_status,
    ingest_load,
    metadata,
    production_daily,
    quarantine,
    unmapped_code,
)
from data_access.schema import (
    mapping as mapping_table,
)
from tests import tiny_network
from tests.helpers import INGEST_BASE as BASE
from tests.helpers import INGEST_CORPUS as CORPUS
from tests.helpers import INGEST_MANIFEST as MANIFEST
from tests.helpers import count, csv_bytes

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)


@pytest.fixture
def warehouse(empty_engine):
    tiny_network.build(empty_engine)
    return empty_engine


def base_mapping(**overrides):
    return parse_mapping({**BASE, **overrides})


def rows_of(engine, table, plant_id=None):
    """Every row of a table (of one plant, or of the others with plant_id='!A'), as sorted text."""
    stmt = select(table)
    if plant_id is not None and "plant_id" in table.c:
        stmt = (
            stmt.where(table.c.plant_id != plant_id[1:])
            if plant_id.startswith("!")
            else stmt.where(table.c.plant_id == plant_id)
        )
    with engine.connect() as conn:
        return sorted(tuple(str(v) for v in row) for row in conn.execute(stmt).all())


def snapshot(engine, plant_id=None, skip=("ingest_load",)):
    return {t.name: rows_of(engine, t, plant_id) for t in metadata.sorted_tables if t.name not in skip}


def downtime_of(engine, plant_id="A"):
    d = downtime_event.c
    with engine.connect() as conn:
        frame = pd.DataFrame(
            conn.execute(
                select(d.asset_id, d.start_utc, d.end_utc, d.day, d.duration_s, d.reason_code, d.local_reason)
                .where(d.plant_id == plant_id)
                .order_by(d.start_utc)
            )
            .mappings()
            .all()
        )
    frame["start_utc"] = pd.to_datetime(frame["start_utc"], utc=True)
    frame["end_utc"] = pd.to_datetime(frame["end_utc"], utc=True)
    return frame


def open_quarantine(engine, load_id=None):
    q = quarantine.c
    stmt = select(q.row_number, q.category, q.reason, q.raw, q.file_name).where(q.resolved.is_(False))
    if load_id is not None:
        stmt = stmt.where(q.load_id == load_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt.order_by(q.row_number)).mappings().all()]


# --- the corpus of bad files ---------------------------------------------------------------------


@pytest.mark.parametrize("case", list(MANIFEST["cases"]))
def test_corpus_file_gives_its_reason_and_loses_no_good_row(warehouse, case):
    spec = MANIFEST["cases"][case]
    mapping = base_mapping(**spec.get("mapping", {}))
    table = production_daily if mapping.source == "production" else downtime_event
    before_a = count(warehouse, table, table.c.plant_id == "A")
    others = snapshot(warehouse, plant_id="!A")
    everything = snapshot(warehouse)

    result = load_file(warehouse, "A", mapping.source, mapping, CORPUS / spec.get("file", case), now=NOW)

    if "error" in spec:
        assert result.status == "failed" and result.exit_code == 2
        assert spec["error"] in result.error
        assert snapshot(warehouse) == everything  # nothing but the failure's log line
        l = ingest_load.c
        assert rows_of(warehouse, ingest_load) and count(warehouse, ingest_load, l.status == "failed") == 1
        return
    assert result.status in ("loaded", "partial"), result.error
    assert result.inserted == spec["loaded"]
    assert count(warehouse, table, table.c.plant_id == "A") == before_a + spec["loaded"]
    assert result.duplicates == spec.get("duplicates", 0)
    held = open_quarantine(warehouse, result.load_id)
    expected = spec.get("rejected", [])
    assert [(q["row_number"], q["category"]) for q in held] == [(row, category) for row, category, _ in expected]
    for q, (_, _, words) in zip(held, expected):
        assert words in q["reason"], q["reason"]
        raw = q["raw"] if isinstance(q["raw"], dict) else __import__("json").loads(q["raw"])
        assert raw and all(len(v) <= 1100 for v in raw.values())  # kept, a huge field cut short
    assert result.quarantined == len(expected)
    if "note" in spec:
        assert any(spec["note"] in n for n in result.notes), result.notes
    u = unmapped_code.c
    with warehouse.connect() as conn:
        review = sorted(map(list, conn.execute(select(u.kind, u.local_code).where(u.plant_id == "A")).all()))
    assert review == sorted(spec.get("review", []))
    assert snapshot(warehouse, plant_id="!A") == others  # nothing outside plant A was touched


def test_a_huge_field_is_kept_shortened_in_quarantine(warehouse):
    result = load_file(warehouse, "A", "downtime", base_mapping(), CORPUS / "huge_field.csv", now=NOW)
    (held,) = open_quarantine(warehouse, result.load_id)
    raw = held["raw"] if isinstance(held["raw"], dict) else __import__("json").loads(held["raw"])
    assert raw["reason"].startswith("Motorschaden Motorschaden") and raw["reason"].endswith("[260,000 characters]")
    assert (
        "(259,999 characters, without the trailing blank) is longer than 100 characters".replace(
            ", without the trailing blank", ""
        )
        in held["reason"]
    )


# --- idempotence and corrections -------------------------------------------------------------------


def test_reloading_the_same_file_changes_nothing(warehouse):
    file = CORPUS / "unknown_plant_or_asset.csv"
    mapping = base_mapping(
        columns={"plant": "plant", "asset": "asset", "start": "start", "end": "end", "reason": "reason"}
    )
    first = load_file(warehouse, "A", "downtime", mapping, file, now=NOW)
    after_first = snapshot(warehouse, skip=("ingest_load", "unmapped_code", "ingest_row"))
    feeds = rows_of(warehouse, feed_status)
    second = load_file(warehouse, "A", "downtime", mapping, file, now=datetime(2026, 4, 2, tzinfo=timezone.utc))
    assert (first.inserted, first.quarantined) == (2, 4)
    assert (second.inserted, second.replaced, second.unchanged, second.quarantined) == (0, 0, 2, 4)
    assert second.exit_code == 0 and second.mapping_version == first.mapping_version == 1
    assert snapshot(warehouse, skip=("ingest_load", "unmapped_code", "ingest_row")) == after_first
    assert rows_of(warehouse, feed_status) == feeds  # nothing new arrived
    assert count(warehouse, quarantine) == 4  # the same rejected rows are not kept twice


def test_a_corrected_row_replaces_the_old_one(warehouse):
    lines = [
        "asset,start,end,reason",
        "VP1-VS-01,2026-03-20 08:00,2026-03-20 09:00,Motorschaden",
        "VP1-VS-01,2026-03-20 10:00,2026-03-20 10:30,Wartung",
    ]
    load_file(warehouse, "A", "downtime", base_mapping(), csv_bytes(*lines), file_name="log.csv", now=NOW)
    lines[1] = "VP1-VS-01,2026-03-20 08:00,2026-03-20 09:15,Motorschaden"
    result = load_file(warehouse, "A", "downtime", base_mapping(), csv_bytes(*lines), file_name="log.csv", now=NOW)
    assert (result.inserted, result.replaced, result.unchanged) == (0, 1, 1)
    events = downtime_of(warehouse)
    mine = events[events["start_utc"].dt.date == date(2026, 3, 20)]
    assert mine["duration_s"].tolist() == [4500.0, 1800.0]


def test_a_corrected_file_replaces_what_it_supersedes(warehouse):
    lines = [
        "asset,start,end,reason",
        "VP1-VS-01,2026-03-20 08:00,2026-03-20 09:00,Motorschaden",
        "VP1-VS-01,2026-03-20 10:00,2026-03-20 10:30,Wartung",
    ]
    first = load_file(warehouse, "A", "downtime", base_mapping(), csv_bytes(*lines), file_name="w12.csv", now=NOW)
    before = len(downtime_of(warehouse))
    # the second stop was entered with the wrong start; the corrected export moves it
    corrected = [lines[0], lines[1], "VP1-VS-01,2026-03-20 11:00,2026-03-20 11:30,Wartung"]
    result = load_file(
        warehouse,
        "A",
        "downtime",
        base_mapping(),
        csv_bytes(*corrected),
        file_name="w12_fixed.csv",
        replaces=[first.load_id],
        now=NOW,
    )
    assert (result.inserted, result.unchanged, result.removed) == (1, 1, 1)
    events = downtime_of(warehouse)
    assert len(events) == before
    local = events["start_utc"].dt.tz_convert("Europe/Berlin").dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert "2026-03-20 11:00" in local and "2026-03-20 10:00" not in local


def test_replacing_a_load_of_another_plant_is_refused(warehouse):
    other = load_file(
        warehouse,
        "B",
        "downtime",
        base_mapping(plant="B", codes={"reason": {"Motorschaden": "MECH_FAIL"}}),
        csv_bytes("asset,start,end,reason", "FILLER#1,2026-03-20 08:00,2026-03-20 09:00,Motorschaden"),
        file_name="b.csv",
        now=NOW,
    )
    before = snapshot(warehouse)
    result = load_file(
        warehouse, "A", "downtime", base_mapping(), CORPUS / "good.csv", replaces=[other.load_id], now=NOW
    )
    assert result.status == "failed" and "that load was for B/downtime, not A/downtime" in result.error
    assert snapshot(warehouse) == before


def test_duplicates_across_chunks_are_found(warehouse):
    lines = ["asset,start,end,reason"] + [
        f"VP1-VS-01,2026-03-1{d} 08:00,2026-03-1{d} 09:00,Motorschaden" for d in range(5)
    ]
    lines += [lines[1], "VP1-VS-01,2026-03-10 08:00,2026-03-10 08:30,Motorschaden"]
    result = load_file(
        warehouse, "A", "downtime", base_mapping(), csv_bytes(*lines), file_name="x.csv", chunk_rows=2, now=NOW
    )
    assert (result.inserted, result.duplicates, result.quarantined) == (5, 1, 1)
    (held,) = open_quarantine(warehouse, result.load_id)
    assert held["row_number"] == 8 and "as row 2 of this load" in held["reason"]


# --- time zones ----------------------------------------------------------------------------------


def test_local_times_are_stored_in_utc_across_daylight_saving_changes(warehouse):
    lines = [
        "asset,start,end,reason",
        "VP1-VS-01,2026-03-29 01:30,2026-03-29 03:30,Motorschaden",  # spans the skipped hour
        "VP1-VS-01,2026-03-29 02:30,2026-03-29 03:15,Wartung",  # starts in the skipped hour
        "VP1-VS-01,2026-10-25 02:30,2026-10-25 02:50,Wartung",  # occurs twice: the earlier one
        "VP1-VS-01,2026-03-27 23:30,2026-03-28 00:30,Wartung",
    ]  # crosses midnight
    result = load_file(
        warehouse,
        "A",
        "downtime",
        base_mapping(),
        csv_bytes(*lines),
        file_name="dst.csv",
        now=datetime(2026, 11, 1, tzinfo=timezone.utc),
    )
    assert result.inserted == 4, open_quarantine(warehouse)
    events = downtime_of(warehouse)
    got = {
        (s.strftime("%m-%d %H:%M"), e.strftime("%H:%M"), str(day)[:10], dur)
        for s, e, day, dur in zip(*(downtime_of(warehouse)[c] for c in ("start_utc", "end_utc", "day", "duration_s")))
    }
    assert ("03-29 00:30", "01:30", "2026-03-29", 3600.0) in got  # 01:30 CET .. 03:30 CEST is one hour
    assert ("03-29 01:00", "01:15", "2026-03-29", 900.0) in got  # 02:30 does not exist: 03:00 CEST
    assert ("10-25 00:30", "00:50", "2026-10-25", 1200.0) in got  # 02:30 CEST, the first time round
    assert ("03-27 22:30", "23:30", "2026-03-27", 3600.0) in got  # the plant-local day of the start
    assert len(events) == 7


def test_the_day_is_the_plants_own_day(warehouse):
    mapping = base_mapping(plant="B", codes={"reason": {"Motorschaden": "MECH_FAIL"}})
    load_file(
        warehouse,
        "B",
        "downtime",
        mapping,
        csv_bytes("asset,start,end,reason", "FILLER#1,2026-03-28 23:30,2026-03-29 00:15,Motorschaden"),
        file_name="ny.csv",
        now=NOW,
    )
    (event,) = downtime_of(warehouse, "B").itertuples()
    assert event.start_utc == pd.Timestamp("2026-03-29 03:30", tz="UTC")  # New York is UTC-4 in March
    assert str(event.day)[:10] == "2026-03-28"


@pytest.mark.parametrize("policy, expected", [("earlier", "00:30"), ("later", "01:30")])
def test_an_ambiguous_autumn_time_follows_the_mapping(warehouse, policy, expected):
    mapping = base_mapping(dst={"ambiguous": policy})
    load_file(
        warehouse,
        "A",
        "downtime",
        mapping,
        csv_bytes("asset,start,end,reason", "VP1-VS-01,2026-10-25 02:30,2026-10-25 03:30,Wartung"),
        file_name="fall.csv",
        now=datetime(2026, 11, 1, tzinfo=timezone.utc),
    )
    events = downtime_of(warehouse)
    assert expected in events[events["start_utc"].dt.month == 10]["start_utc"].dt.strftime("%H:%M").tolist()


def test_dst_times_can_be_refused_with_their_reason(warehouse):
    mapping = base_mapping(dst={"ambiguous": "reject", "nonexistent": "reject"})
    result = load_file(
        warehouse,
        "A",
        "downtime",
        mapping,
        csv_bytes(
            "asset,start,end,reason",
            "VP1-VS-01,2026-10-25 02:30,2026-10-25 03:30,Wartung",
            "VP1-VS-01,2026-03-29 02:30,2026-03-29 03:30,Wartung",
            "VP1-VS-01,2026-03-20 08:00,2026-03-20 09:00,Wartung",
        ),
        file_name="dst.csv",
        now=datetime(2026, 11, 1, tzinfo=timezone.utc),
    )
    assert result.inserted == 1
    reasons = [q["reason"] for q in open_quarantine(warehouse, result.load_id)]
    assert "occurs twice in Europe/Berlin (clocks go back that night)" in reasons[0]
    assert "does not exist in Europe/Berlin (clocks go forward that night)" in reasons[1]


def test_an_explicit_utc_offset_wins_over_the_plant_zone(warehouse):
    load_file(
        warehouse,
        "A",
        "downtime",
        base_mapping(),
        csv_bytes("asset,start,end,reason", "VP1-VS-01,2026-03-20T08:00:00-05:00,2026-03-20T14:00:00Z,Wartung"),
        file_name="iso.csv",
        now=NOW,
    )
    events = downtime_of(warehouse)
    row = events[events["start_utc"].dt.date == date(2026, 3, 20)].iloc[0]
    assert row["start_utc"] == pd.Timestamp("2026-03-20 13:00", tz="UTC")
    assert row["end_utc"] == pd.Timestamp("2026-03-20 14:00", tz="UTC")


# --- a failed load leaves the warehouse as it was ------------------------------------------------


def test_a_load_failing_half_way_leaves_the_warehouse_as_it_was(warehouse, monkeypatch):
    before = snapshot(warehouse)
    lines = ["asset,start,end,reason"] + [
        f"VP1-VS-01,2026-03-1{d} 08:00,2026-03-1{d} 09:00,Motorschaden" for d in range(6)
    ]
    real = loader_module.bulk.bulk_insert
    calls = []

    def failing(conn, table, frame):
        calls.append(table.name)
        if calls.count("downtime_event") == 2:
            raise IngestError("disk full (simulated)")
        return real(conn, table, frame)

    monkeypatch.setattr(loader_module.bulk, "bulk_insert", failing)
    result = load_file(
        warehouse, "A", "downtime", base_mapping(), csv_bytes(*lines), file_name="x.csv", chunk_rows=2, now=NOW
    )
    assert result.status == "failed" and "disk full" in result.error
    assert calls.count("downtime_event") == 2  # the first chunk had been written
    assert snapshot(warehouse) == before


def test_a_crash_half_way_rolls_back_and_raises(warehouse, monkeypatch):
    before = snapshot(warehouse, skip=())
    real = loader_module.transform
    seen = []

    def crashing(ctx, frame):
        seen.append(len(frame))
        if len(seen) == 2:
            raise RuntimeError("bug")
        return real(ctx, frame)

    monkeypatch.setattr(loader_module, "transform", crashing)
    lines = ["asset,start,end,reason"] + [
        f"VP1-VS-01,2026-03-1{d} 08:00,2026-03-1{d} 09:00,Motorschaden" for d in range(4)
    ]
    with pytest.raises(RuntimeError, match="bug"):
        load_file(
            warehouse, "A", "downtime", base_mapping(), csv_bytes(*lines), file_name="x.csv", chunk_rows=2, now=NOW
        )
    assert len(seen) == 2
    assert snapshot(warehouse, skip=()) == before  # not even a load log line: it was a bug, not a file


def test_an_unknown_plant_or_a_mapping_for_another_plant_is_refused(warehouse):
    result = load_file(warehouse, "ZZ", "downtime", base_mapping(plant="ZZ"), CORPUS / "good.csv", now=NOW)
    assert result.status == "failed" and "unknown plant 'ZZ' (known: A, B)" in result.error
    result = load_file(warehouse, "B", "downtime", base_mapping(), CORPUS / "good.csv", now=NOW)
    assert result.error == "the mapping is for plant 'A', not 'B'"


def test_a_mapping_naming_an_unknown_canonical_code_is_refused(warehouse):
    before = snapshot(warehouse)
    result = load_file(
        warehouse,
        "A",
        "downtime",
        base_mapping(codes={"reason": {"Motorschaden": "MECH_FALE"}}),
        CORPUS / "good.csv",
        now=NOW,
    )
    assert result.status == "failed"
    assert "codes.reason: 'Motorschaden' maps to 'MECH_FALE', which is not a known downtime reason" in result.error
    assert snapshot(warehouse) == before


def test_a_file_where_no_row_loads_exits_1_but_keeps_its_rows(warehouse):
    result = load_file(
        warehouse,
        "A",
        "downtime",
        base_mapping(),
        csv_bytes("asset,start,end,reason", "VP1-VS-01,2026-03-20 09:00,2026-03-20 08:00,Motorschaden"),
        file_name="bad.csv",
        now=NOW,
    )
    assert result.status == "nothing_loaded" and result.exit_code == 1
    assert len(open_quarantine(warehouse, result.load_id)) == 1
    f = feed_status.c
    assert count(warehouse, feed_status, f.plant_id == "A", f.source == "downtime") == 0


# --- mapping versions, feed status, marts -------------------------------------------------------------


def test_each_load_records_its_mapping_version_and_feeds_the_marts(warehouse):
    first = load_file(warehouse, "A", "downtime", base_mapping(), CORPUS / "good.csv", now=NOW)
    changed = base_mapping(codes={"reason": {"Motorschaden": "MECH_FAIL", "Wartung": "PM", "Pause": "PM"}})
    second = load_file(warehouse, "A", "downtime", changed, CORPUS / "good.csv", now=NOW)
    assert (first.mapping_version, second.mapping_version) == (1, 2)
    l = ingest_load.c
    with warehouse.connect() as conn:
        versions = conn.execute(select(l.mapping_version).order_by(l.load_id)).scalars().all()
        fs = conn.execute(
            select(feed_status.c.last_received_utc, feed_status.c.expected_cadence_h).where(
                feed_status.c.plant_id == "A", feed_status.c.source == "downtime"
            )
        ).one()
        mart_failures = conn.execute(
            text("SELECT failures FROM mart_plant_daily WHERE plant_id = 'A' AND day = :d"), {"d": date(2026, 3, 29)}
        ).scalar()
    assert versions == [1, 2] and count(warehouse, mapping_table) == 2
    assert pd.Timestamp(fs.last_received_utc).replace(tzinfo=None) == NOW.replace(tzinfo=None)
    assert fs.expected_cadence_h == 24.0
    assert first.marts_rows and mart_failures == 1


def test_the_loaded_rows_reach_the_daily_mart(warehouse):
    load_file(
        warehouse,
        "A",
        "downtime",
        base_mapping(),
        csv_bytes("asset,start,end,reason", "VP1-VS-01,2026-03-31 08:00,2026-03-31 09:30,Motorschaden"),
        file_name="m.csv",
        now=NOW,
    )
    with warehouse.connect() as conn:
        row = conn.execute(
            text("SELECT failures, unplanned_downtime_s FROM mart_plant_daily WHERE plant_id = 'A' AND day = :d"),
            {"d": date(2026, 3, 31)},
        ).one()
    assert (row.failures, row.unplanned_downtime_s) == (1, 5400.0)


# --- the review list and quarantine re-try ---------------------------------------------------------


def test_mapping_a_code_in_the_review_list_lets_a_retry_load_the_rows(warehouse):
    result = load_file(warehouse, "A", "downtime", base_mapping(), CORPUS / "unmapped_codes.csv", now=NOW)
    assert (result.inserted, result.unmapped) == (2, 2)
    audited = []
    with pytest.raises(IngestError, match="'NOPE' is not a downtime reason of A"):
        map_code(warehouse, "A", "reason", "Kette gerissen", "NOPE", actor="steward")
    map_code(
        warehouse,
        "A",
        "reason",
        "Kette gerissen",
        "MECH_FAIL",
        actor="steward",
        audit=lambda conn, detail: audited.append(detail),
    )
    assert audited == [
        {"kind": "reason", "local_code": "Kette gerissen", "canonical_code": "MECH_FAIL", "previous": None}
    ]
    retry = retry_quarantine(warehouse, "A", "downtime", actor="steward", now=NOW)
    assert (retry.inserted, retry.resolved, retry.quarantined) == (2, 2, 0)
    assert open_quarantine(warehouse) == []
    assert retry.mapping_version == 2  # the stored mapping plus the reviewed code
    # the next load of a file with that code applies it without a change to the file's mapping
    again = load_file(
        warehouse,
        "A",
        "downtime",
        base_mapping(),
        csv_bytes("asset,start,end,reason", "VP1-VS-01,2026-03-22 08:00,2026-03-22 09:00,Kette gerissen"),
        file_name="n.csv",
        now=NOW,
    )
    assert again.inserted == 1 and again.mapping_version == 2


def test_a_retry_keeps_rows_that_still_fail_with_todays_reason(warehouse):
    load_file(warehouse, "A", "downtime", base_mapping(), CORPUS / "end_before_start.csv", now=NOW)
    retry = retry_quarantine(warehouse, "A", "downtime", actor="steward", now=NOW)
    assert (retry.inserted, retry.quarantined, retry.status) == (0, 1, "nothing_loaded")
    (held,) = open_quarantine(warehouse)
    assert "is before start" in held["reason"]
    assert count(warehouse, quarantine) == 1


def test_reloading_a_fixed_file_resolves_its_quarantined_rows(warehouse):
    first = load_file(warehouse, "A", "downtime", base_mapping(), CORPUS / "unmapped_codes.csv", now=NOW)
    assert len(open_quarantine(warehouse)) == 2
    fixed = base_mapping(
        codes={"reason": {"Motorschaden": "MECH_FAIL", "Wartung": "PM", "Kette gerissen": "MECH_FAIL"}}
    )
    second = load_file(warehouse, "A", "downtime", fixed, CORPUS / "unmapped_codes.csv", now=NOW)
    assert (second.inserted, second.unchanged, second.resolved) == (2, 2, 2)
    assert open_quarantine(warehouse) == [] and first.load_id != second.load_id


# --- preview, Excel, the command line ----------------------------------------------------------------


def test_preview_shows_rows_as_they_would_load_and_writes_nothing(warehouse):
    before = snapshot(warehouse, skip=())
    shown = preview(warehouse, "A", "downtime", base_mapping(), CORPUS / "duplicates.csv", "duplicates.csv", now=NOW)
    assert shown.error is None
    assert shown.rows["status"].tolist() == ["new", "new", "duplicate", "rejected: conflict"]
    assert shown.rows["row_number"].tolist() == [2, 3, 4, 5]
    assert list(shown.rows.columns[:4]) == ["row_number", "status", "reason", "plant_id"]
    assert snapshot(warehouse, skip=()) == before
    failed = preview(warehouse, "A", "downtime", base_mapping(), CORPUS / "missing_columns.csv", "m.csv", now=NOW)
    assert "missing column(s) 'end'" in failed.error and failed.rows.empty


def test_an_excel_sheet_loads_with_date_cells_and_formula_text(warehouse, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Stillstand"
    sheet.append(["Anlage", "Beginn", "Ende", "Grund"])
    sheet.append(["VP1-VS-01", datetime(2026, 3, 20, 8, 0), datetime(2026, 3, 20, 9, 0), "Motorschaden"])
    sheet.append(["VP1-VS-01", "20.03.2026 10:00", "20.03.2026 10:30", "Wartung"])
    sheet.append(["VP1-VS-01", datetime(2026, 3, 21, 8, 0), datetime(2026, 3, 21, 9, 0), "=A1"])
    path = tmp_path / "downtime.xlsx"
    book.save(path)
    mapping = base_mapping(
        datetime_format="%d.%m.%Y %H:%M",
        file={"sheet": "Stillstand"},
        columns={"asset": "Anlage", "start": "Beginn", "end": "Ende", "reason": "Grund"},
    )
    result = load_file(warehouse, "A", "downtime", mapping, path, now=NOW)
    assert result.inserted == 2, open_quarantine(warehouse)
    (held,) = open_quarantine(warehouse, result.load_id)
    assert held["row_number"] == 4  # the sheet's own row number
    missing = load_file(warehouse, "A", "downtime", base_mapping(file={"sheet": "Sheet9"}), path, now=NOW)
    assert missing.error == "the workbook has no sheet 'Sheet9' (sheets: Stillstand)"


def test_the_command_line_loads_and_exits_by_outcome(empty_engine, tmp_path, capsys):
    tiny_network.build(empty_engine)
    url = empty_engine.url.render_as_string(hide_password=False)
    mapping_file = tmp_path / "a_downtime.yaml"
    mapping_file.write_text(yaml.safe_dump(BASE))
    args = ["--url", url, "--plant", "A", "--source", "downtime", "--mapping", str(mapping_file), "--no-progress"]
    assert cli(args + [str(CORPUS / "unmapped_codes.csv")]) == 0
    out = capsys.readouterr().out
    assert "4 rows read, 2 loaded" in out and "unmapped reason: 'Kette gerissen' (2 rows)" in out
    assert cli(args + [str(CORPUS / "unmapped_codes.csv")]) == 0  # nothing new, nothing lost
    assert "0 loaded, 0 replaced, 2 unchanged" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("asset,start,end,reason\nVP1-VS-01,2026-03-20 09:00,2026-03-20 08:00,Motorschaden\n")
    assert cli(args + [str(bad)]) == 1
    assert cli(args + [str(CORPUS / "empty.csv")]) == 2
    assert "not loaded: the file is empty (0 bytes)" in capsys.readouterr().out
    mapping_file.write_text("plant: A\nsource: downtime\ncolumns: {asset: asset}\n")
    assert cli(args + [str(CORPUS / "good.csv")]) == 2
    assert "required field(s) missing for source downtime: start, reason" in capsys.readouterr().err
