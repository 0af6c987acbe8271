"""Two exports feeding one table, and corrections that say what they did (issue 17), on SQLite
and PostgreSQL: a row another export delivered is never replaced silently; `--replaces` with
nothing to replace is refused."""

from datetime import date, datetime, timezone

import pytest
import yaml
from sqlalchemy import select

from data_access.ingest import load_file, parse_mapping
from data_access.schema import downtime_event, quarantine
from tests import tiny_network
from tests.helpers import INGEST_BASE as BASE
from tests.helpers import csv_bytes

NOW = datetime(2026, 4, 1, tzinfo=timezone.utc)
FAILURES = [
    "asset,start,end,reason",
    "VP1-VS-01,2026-03-20 08:00,2026-03-20 10:00,Motorschaden",
    "VP1-VS-01,2026-03-21 08:00,2026-03-21 09:00,Motorschaden",
]
# the maintenance export: other columns, one planned stop on the same asset and start as a failure
MAINTENANCE = parse_mapping({**BASE, "columns": {"asset": "Equipment", "start": "From", "end": "To", "reason": "Kind"}})
PLANNED = [
    "Equipment,From,To,Kind",
    "VP1-VS-01,2026-03-20 08:00,2026-03-20 08:30,Wartung",
    "VP1-VS-01,2026-03-22 08:00,2026-03-22 08:30,Wartung",
]


@pytest.fixture
def warehouse(empty_engine):
    tiny_network.build(empty_engine)
    return empty_engine


def stops(engine):
    d = downtime_event.c
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(d.reason_code, d.duration_s)
                .where(d.plant_id == "A", d.day.between(date(2026, 3, 20), date(2026, 3, 22)))
                .order_by(d.start_utc)
            ).all()
        ]


def test_another_export_never_replaces_a_row_silently(warehouse):
    failures = load_file(
        warehouse, "A", "downtime", parse_mapping(BASE), csv_bytes(*FAILURES), file_name="failures.csv", now=NOW
    )
    planned = load_file(
        warehouse, "A", "downtime", MAINTENANCE, csv_bytes(*PLANNED), file_name="maintenance.csv", now=NOW
    )
    assert (planned.inserted, planned.replaced, planned.quarantined, planned.status) == (1, 0, 1, "partial")
    assert stops(warehouse) == [("MECH_FAIL", 7200.0), ("MECH_FAIL", 3600.0), ("PM", 1800.0)]
    q = quarantine.c
    with warehouse.connect() as conn:
        row = conn.execute(select(q.category, q.reason, q.raw).where(q.load_id == planned.load_id)).one()
    assert row.category == "conflict" and row.raw["From"] == "2026-03-20 08:00"
    assert f"as row 2 of load {failures.load_id} ('failures.csv', mapped from other columns)" in row.reason
    assert f"--replaces {failures.load_id}" in row.reason


def test_the_same_export_corrected_still_replaces_its_row(warehouse):
    load_file(warehouse, "A", "downtime", parse_mapping(BASE), csv_bytes(*FAILURES), file_name="day1.csv", now=NOW)
    corrected = [FAILURES[0], FAILURES[1].replace("10:00,", "09:30,"), FAILURES[2]]
    result = load_file(
        warehouse, "A", "downtime", parse_mapping(BASE), csv_bytes(*corrected), file_name="day2.csv", now=NOW
    )
    assert (result.replaced, result.unchanged, result.quarantined) == (1, 1, 0)
    assert stops(warehouse) == [("MECH_FAIL", 5400.0), ("MECH_FAIL", 3600.0)]


def test_an_explicit_replaces_lets_another_export_correct_the_rows(warehouse):
    failures = load_file(
        warehouse, "A", "downtime", parse_mapping(BASE), csv_bytes(*FAILURES), file_name="failures.csv", now=NOW
    )
    planned = load_file(
        warehouse,
        "A",
        "downtime",
        MAINTENANCE,
        csv_bytes(*PLANNED),
        file_name="maintenance.csv",
        replaces=[failures.load_id],
        now=NOW,
    )
    assert (planned.replaced, planned.inserted, planned.removed, planned.quarantined) == (1, 1, 1, 0)
    assert stops(warehouse) == [("PM", 1800.0), ("PM", 1800.0)]


def test_replaces_with_nothing_left_to_replace_is_refused(warehouse):
    first = load_file(warehouse, "A", "downtime", parse_mapping(BASE), csv_bytes(*FAILURES), file_name="a.csv", now=NOW)
    load_file(warehouse, "A", "downtime", parse_mapping(BASE), csv_bytes(*FAILURES), file_name="b.csv", now=NOW)
    before = stops(warehouse)
    result = load_file(
        warehouse,
        "A",
        "downtime",
        parse_mapping(BASE),
        csv_bytes(FAILURES[0]),
        file_name="c.csv",
        replaces=[first.load_id],
        now=NOW,
    )
    assert result.status == "failed"
    assert f"--replaces {first.load_id}: nothing to replace" in result.error
    assert stops(warehouse) == before


def open_review(engine):
    from data_access.schema import unmapped_code

    u = unmapped_code.c
    with engine.connect() as conn:
        return {
            r.local_code: (r.status, r.canonical_code)
            for r in conn.execute(
                select(u.local_code, u.status, u.canonical_code).where(u.plant_id == "A", u.kind == "reason")
            ).all()
        }


def test_quarantine_identity_includes_the_column_names(warehouse):
    """The same values under another file's header are not the quarantined row of the first file."""
    row = "VP1-VS-01,2026-03-20 08:00,2026-03-20 10:00,Kaputt"
    first = load_file(
        warehouse, "A", "downtime", parse_mapping(BASE), csv_bytes(FAILURES[0], row), file_name="failures.csv", now=NOW
    )
    assert first.unmapped == 1
    other = parse_mapping(
        {
            **BASE,
            "columns": {"asset": "Equipment", "start": "From", "end": "To", "reason": "Kind"},
            "codes": {"reason": {"Kaputt": "MECH_FAIL"}},
        }
    )
    second = load_file(warehouse, "A", "downtime", other, csv_bytes(PLANNED[0], row), file_name="other.csv", now=NOW)
    assert (second.inserted, second.resolved) == (1, 0)
    q = quarantine.c
    with warehouse.connect() as conn:
        still = conn.execute(select(q.file_name, q.resolved).where(q.load_id == first.load_id)).all()
    assert [tuple(r) for r in still] == [("failures.csv", False)]


def test_the_review_list_closes_codes_the_mapping_now_maps(warehouse):
    row = "VP1-VS-01,2026-03-20 08:00,2026-03-20 10:00,Kaputt"
    load_file(warehouse, "A", "downtime", parse_mapping(BASE), csv_bytes(FAILURES[0], row), file_name="a.csv", now=NOW)
    assert open_review(warehouse) == {"Kaputt": ("open", None)}
    fixed = parse_mapping({**BASE, "codes": {"reason": {**BASE["codes"]["reason"], "Kaputt": "MECH_FAIL"}}})
    result = load_file(warehouse, "A", "downtime", fixed, csv_bytes(FAILURES[0], row), file_name="a.csv", now=NOW)
    assert result.inserted == 1 and result.resolved == 1
    assert open_review(warehouse) == {"Kaputt": ("mapped", "MECH_FAIL")}


def test_replaces_names_a_file(warehouse):
    load_file(warehouse, "A", "downtime", parse_mapping(BASE), csv_bytes(*FAILURES), file_name="w12.csv", now=NOW)
    result = load_file(
        warehouse,
        "A",
        "downtime",
        parse_mapping(BASE),
        csv_bytes(*FAILURES[:2]),
        file_name="w12_fixed.csv",
        replaces=["w12.csv"],
        now=NOW,
    )
    assert (result.unchanged, result.removed) == (1, 1)
    assert stops(warehouse) == [("MECH_FAIL", 7200.0)]
    unknown = load_file(
        warehouse,
        "A",
        "downtime",
        parse_mapping(BASE),
        csv_bytes(*FAILURES[:2]),
        file_name="w13.csv",
        replaces=["nope.csv"],
        now=NOW,
    )
    assert unknown.status == "failed"
    assert "--replaces 'nope.csv': no load of A/downtime came from a file of that name" in unknown.error


def test_a_day_without_stops_is_a_successful_load_that_refreshes_the_feed(warehouse):
    from data_access.ingest import preview
    from data_access.schema import feed_status

    later = datetime(2026, 4, 2, 6, tzinfo=timezone.utc)
    shown = preview(warehouse, "A", "downtime", parse_mapping(BASE), csv_bytes(FAILURES[0]), "day.csv", now=later)
    assert shown.error is None and any("an empty period" in n for n in shown.notes)
    result = load_file(
        warehouse, "A", "downtime", parse_mapping(BASE), csv_bytes(FAILURES[0]), file_name="day.csv", now=later
    )
    assert (result.status, result.exit_code, result.rows_read, result.inserted) == ("loaded", 0, 0, 0)
    f = feed_status.c
    with warehouse.connect() as conn:
        received = conn.execute(
            select(f.last_received_utc).where(f.plant_id == "A", f.source == "downtime")
        ).scalar_one()
    assert received.replace(tzinfo=timezone.utc) == later


def test_excel_serial_dates(warehouse):
    """46101.3333... is 2026-03-20 08:00 (Excel counts days from 1899-12-30); a decimal comma too."""
    mapping = parse_mapping({**BASE, "datetime_format": "excel"})
    rows = [
        "asset,start,end,reason",
        'VP1-VS-01,46101.333333333,"46101,4166666667",Motorschaden',
        "VP1-VS-01,yesterday,46101.5,Motorschaden",
    ]
    result = load_file(warehouse, "A", "downtime", mapping, csv_bytes(*rows), file_name="serial.csv", now=NOW)
    assert (result.inserted, result.quarantined) == (1, 1)
    assert stops(warehouse) == [("MECH_FAIL", 7200.0)]
    q = quarantine.c
    with warehouse.connect() as conn:
        reason = conn.execute(select(q.reason).where(q.load_id == result.load_id)).scalar_one()
    assert "'yesterday' is not a valid date and time (an Excel serial number, e.g. 46110.5)" in reason


def test_a_decimal_comma_is_named_in_the_message(warehouse):
    mapping = parse_mapping(
        {
            **BASE,
            "columns": {
                "asset": "asset",
                "start": "start",
                "reason": "reason",
                "duration": {"column": "minutes", "unit": "min"},
            },
        }
    )
    rows = [
        "asset;start;minutes;reason",
        "VP1-VS-01;2026-03-20 08:00;90,5;Motorschaden",
        "VP1-VS-01;2026-03-21 08:00;lots;Motorschaden",
    ]
    result = load_file(warehouse, "A", "downtime", mapping, csv_bytes(*rows), file_name="dauer.csv", now=NOW)
    q = quarantine.c
    with warehouse.connect() as conn:
        reasons = (
            conn.execute(select(q.reason).where(q.load_id == result.load_id).order_by(q.row_number)).scalars().all()
        )
    assert "'90,5' is not a number with a decimal point" in reasons[0] and 'file.decimal: ","' in reasons[0]
    assert reasons[1].endswith("'lots' is not a number")


def test_the_command_lists_a_few_unmapped_codes_then_a_count(warehouse, tmp_path, capsys):
    from data_access.ingest.__main__ import main as cli

    (tmp_path / "map.yaml").write_text(yaml.safe_dump(BASE))
    rows = ["asset,start,end,reason"] + [
        f"VP1-VS-01,2026-03-{10 + i} 08:00,2026-03-{10 + i} 09:00,Code{i}" for i in range(8)
    ]
    (tmp_path / "x.csv").write_text("\n".join(rows) + "\n")
    url = warehouse.url.render_as_string(hide_password=False)
    args = [
        "--url",
        url,
        "--plant",
        "A",
        "--source",
        "downtime",
        "--mapping",
        str(tmp_path / "map.yaml"),
        "--no-progress",
        str(tmp_path / "x.csv"),
    ]
    assert cli(args) == 1
    out = capsys.readouterr().out
    assert out.count("unmapped reason:") == 5 and "... and 3 more unmapped codes (3 rows)" in out
    cli([*args, "--verbose"])
    assert capsys.readouterr().out.count("unmapped reason:") == 8


def test_a_closed_pipe_is_no_traceback(warehouse, tmp_path):
    """`python -m data_access.ingest ... | head`: the reader is gone before the summary is written."""
    import subprocess
    import sys

    (tmp_path / "map.yaml").write_text(yaml.safe_dump(BASE))
    (tmp_path / "x.csv").write_text("\n".join(FAILURES) + "\n")
    url = warehouse.url.render_as_string(hide_password=False)
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "data_access.ingest",
            "--url",
            url,
            "--plant",
            "A",
            "--source",
            "downtime",
            "--mapping",
            str(tmp_path / "map.yaml"),
            "--no-progress",
            str(tmp_path / "x.csv"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    run.stdout.close()  # closed before the command writes anything
    _, err = run.communicate(timeout=120)
    assert "Traceback" not in err.decode() and run.returncode == 0
    assert stops(warehouse)[:2] == [("MECH_FAIL", 7200.0), ("MECH_FAIL", 3600.0)]


def test_a_corrected_file_closes_the_quarantine_of_the_file_it_replaces(warehouse):
    bad = [*FAILURES, "VP1-VS-01,2026-03-22 08:00,2026-03-22 07:00,Motorschaden"]  # ends before it starts
    first = load_file(warehouse, "A", "downtime", parse_mapping(BASE), csv_bytes(*bad), file_name="w12.csv", now=NOW)
    assert first.quarantined == 1
    fixed = [*FAILURES, "VP1-VS-01,2026-03-22 08:00,2026-03-22 09:00,Motorschaden"]
    result = load_file(
        warehouse,
        "A",
        "downtime",
        parse_mapping(BASE),
        csv_bytes(*fixed),
        file_name="w12_fixed.csv",
        replaces=["w12.csv"],
        now=NOW,
    )
    assert (result.inserted, result.unchanged, result.quarantined) == (1, 2, 0)
    q = quarantine.c
    with warehouse.connect() as conn:
        held = conn.execute(select(q.resolved, q.resolution).where(q.file_name == "w12.csv")).one()
    assert held.resolved and held.resolution == f"superseded by load {result.load_id} (a corrected file)"
