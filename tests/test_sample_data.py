"""The sample network generator: determinism, the plant mix, and the invariants KPIs rely on.

Each test builds a small network in a fresh warehouse, on SQLite and on PostgreSQL, and
reads it back through SQLAlchemy, so what is checked is what the pages will read.
"""

import re
from datetime import date, datetime, timedelta, timezone
from itertools import combinations
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import DateTime, insert, select

from data_access import schema
from sample_data import catalog, generate
from sample_data.__main__ import main

END = date(2025, 4, 10)
HISTORY_END, HISTORY_DAYS = date(2025, 3, 15), 135  # from 2024-11-01: both DST switches of America/Chicago


def read(engine, table) -> pd.DataFrame:
    """All rows of a table in primary-key order, timestamps as UTC."""
    with engine.connect() as conn:
        result = conn.execute(select(table).order_by(*table.primary_key.columns))
        frame = pd.DataFrame(result.fetchall(), columns=[c.name for c in table.columns])
    for column in table.columns:
        if isinstance(column.type, DateTime):
            frame[column.name] = pd.to_datetime(frame[column.name], utc=True)
    return frame


def snapshot(engine, plants=None) -> dict:
    """Every table's rows (optionally of some plants) without surrogate ids: PostgreSQL's
    sequence keeps counting after a replace, so event_id is not part of the data."""
    out = {}
    for table in schema.metadata.sorted_tables:
        if table.name in ("job_request", "job_run"):  # the worker's work, not the network (test_worker.py)
            continue
        frame = read(engine, table).drop(columns=["event_id"], errors="ignore")
        if plants is not None:
            if "plant_id" not in frame:
                continue
            frame = frame[frame["plant_id"].isin(plants)].reset_index(drop=True)
        out[table.name] = frame
    return out


def days_between(later, earlier) -> pd.Series:
    return (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.days


def plants_of(engine) -> pd.DataFrame:
    return read(engine, schema.plant).set_index("plant_id")


@pytest.fixture
def twelve(empty_engine):
    """The 12 template plants, three weeks."""
    generate(empty_engine, plants=12, days=21, end_day=END)
    return empty_engine


@pytest.fixture
def history(empty_engine):
    """Three plants (iot 24/7 in Chicago, mes, spreadsheet) over 135 days."""
    generate(empty_engine, plants=3, days=HISTORY_DAYS, end_day=HISTORY_END)
    return empty_engine


# --- determinism and loading ---------------------------------------------------------------


def test_same_seed_and_end_give_identical_rows_and_another_seed_differs(empty_engine):
    counts = generate(empty_engine, plants=3, days=30, end_day=END)
    first = snapshot(empty_engine)
    assert all(counts[name] == len(first[name]) for name in counts)

    generate(empty_engine, plants=3, days=30, end_day=END, replace=True)
    again = snapshot(empty_engine)
    for name, frame in first.items():
        pd.testing.assert_frame_equal(frame, again[name], obj=name)

    generate(empty_engine, plants=4, days=30, end_day=END, replace=True)
    grown = snapshot(empty_engine, plants=list(first["plant"]["plant_id"]))
    for name, frame in grown.items():  # adding a plant leaves the first plants' rows alone
        pd.testing.assert_frame_equal(first[name], frame, obj=name)

    generate(empty_engine, plants=3, days=30, end_day=END, seed=8, replace=True)
    other = snapshot(empty_engine)
    for name in ("production_daily", "downtime_event", "inventory_snapshot", "production_order"):
        assert not first[name].equals(other[name]), name


def test_refuses_a_warehouse_with_plants_and_bad_arguments(empty_engine):
    for bad in (dict(plants=0), dict(days=3), dict(seed=-1), dict(end_day="2025-04-10"), dict(plants=True)):
        with pytest.raises(ValueError):
            generate(empty_engine, **{"plants": 1, "days": 14, **bad})
    generate(empty_engine, plants=1, days=14, end_day=END)
    with pytest.raises(ValueError, match="already holds plants"):
        generate(empty_engine, plants=1, days=14, end_day=END)
    with empty_engine.begin() as conn:
        conn.execute(
            insert(schema.plant_policy).values(
                plant_id="NA-JOL",
                key="auto_approve",
                value={"max_cost": 100},
                updated_utc=datetime(2025, 4, 1, tzinfo=timezone.utc),
                updated_by="admin",
            )
        )
    with pytest.raises(ValueError, match="plant_policy"):
        generate(empty_engine, plants=2, days=14, end_day=END, replace=True)
    assert len(plants_of(empty_engine)) == 1  # the refused replace changed nothing


# --- the network's shape ---------------------------------------------------------------------


def test_twelve_plants_mix_maturities_regions_lines_and_assets(twelve):
    plants = plants_of(twelve)
    assert plants["data_maturity"].value_counts().to_dict() == {"mes": 5, "spreadsheet": 4, "iot": 3}
    assert set(plants["region_id"]) == {"NA", "EU", "SEA"}
    assert plants["maintenance_workflow"].nunique() >= 5
    assert all(ZoneInfo(tz) for tz in plants["timezone"])
    lines, assets = read(twelve, schema.line), read(twelve, schema.asset)
    per_plant = lines.groupby("plant_id")["line_type"]
    assert per_plant.size().between(3, 5).all()
    assert per_plant.apply(lambda types: "packaging" in set(types)).all()
    assert set(lines["line_type"]) <= {"packaging", "filling", "processing", "assembly"}
    assert assets.groupby("line_id").size().between(4, 7).all()
    assert set(assets["criticality"]) == {"A", "B", "C"}
    reasons = read(twelve, schema.downtime_reason)
    assert set(reasons["category"]) == {"failure", "planned", "changeover", "starved", "quality"}
    assert (reasons["is_failure"] == (reasons["category"] == "failure")).all()
    events = read(twelve, schema.downtime_event)
    assert (events["is_failure"] == (events["category"] == "failure")).all()
    stocked = read(twelve, schema.plant_material).groupby("material_id")
    shared = stocked["plant_id"].nunique()
    assert (shared >= 3).any()  # the same material at several plants...
    assert (stocked["local_code"].nunique()[shared >= 3] > 1).all()  # ...under their own codes


def test_local_names_and_reasons_follow_each_plants_conventions(twelve):
    assets = read(twelve, schema.asset)
    codes = assets.groupby("plant_id")["local_code"].apply(set)
    for a, b in combinations(codes.index, 2):
        assert not codes[a] & codes[b], (a, b)
    shapes = assets.groupby("plant_id")["local_code"].apply(
        lambda s: frozenset(re.sub(r"[^\W\d_]+", "a", re.sub(r"\d+", "9", c)) for c in s)
    )
    assert shapes.nunique() >= 8  # conventions differ, not just the numbers in them
    events = read(twelve, schema.downtime_event)
    wording = events.groupby("reason_code").agg(plants=("plant_id", "nunique"), texts=("local_reason", "nunique"))
    common = wording[wording["plants"] >= 6]
    assert len(common) >= 3 and (common["texts"] >= 5).all()


def test_feeds_lag_at_spreadsheet_plants_and_one_is_down(twelve):
    plants = plants_of(twelve)
    feeds = read(twelve, schema.feed_status)
    maturity = feeds["plant_id"].map(plants["data_maturity"])
    iot = set(plants.index[plants["data_maturity"] == "iot"])
    assert set(feeds.loc[feeds["source"] == "health", "plant_id"]) == iot
    day_after = datetime.combine(END + timedelta(days=1), datetime.min.time(), timezone.utc) + timedelta(hours=12)
    age_h = (pd.Timestamp(day_after) - feeds["last_received_utc"]).dt.total_seconds() / 3600
    stale = feeds[age_h > feeds["expected_cadence_h"]]
    assert 1 <= stale["plant_id"].nunique() <= 2
    assert (age_h[stale.index] > 2 * feeds.loc[stale.index, "expected_cadence_h"]).all()  # well beyond
    assert (feeds["last_received_utc"] < pd.Timestamp(END + timedelta(days=1), tz="UTC")).all()  # none in the future
    last_day = read(twelve, schema.production_daily).groupby("plant_id")["day"].max()
    spreadsheet = last_day[plants.index[plants["data_maturity"] == "spreadsheet"]]
    assert days_between(pd.Series(END, index=spreadsheet.index), spreadsheet).between(1, 3).all()
    healthy = plants.index[(plants["data_maturity"] != "spreadsheet") & ~plants.index.isin(stale["plant_id"])]
    assert (last_day[healthy] == END).all()
    assert (feeds.loc[maturity == "spreadsheet", "expected_cadence_h"] >= 168).any()


def test_orders_without_due_date_only_at_spreadsheet_plants_and_a_future_schedule(twelve):
    plants = plants_of(twelve)
    orders = read(twelve, schema.production_order)
    no_due = orders[orders["due_utc"].isna()]
    assert len(no_due) > 0
    assert set(plants.loc[no_due["plant_id"].unique(), "data_maturity"]) == {"spreadsheet"}
    assert no_due["due_day"].isna().all() and orders.loc[orders["due_utc"].notna(), "due_day"].notna().all()
    tz = orders["plant_id"].map(plants["timezone"])
    dated = orders[orders["due_utc"].notna()]
    local_due = [ts.astimezone(ZoneInfo(z)).date() for ts, z in zip(dated["due_utc"], tz[dated.index])]
    assert list(dated["due_day"]) == local_due
    end_utc = pd.Timestamp(END + timedelta(days=2), tz="UTC")
    future = orders[orders["planned_start_utc"] > end_utc]
    assert len(future) > 0 and set(future["status"]) <= {"planned", "released"}
    assert future["actual_end_utc"].isna().all() and (future["produced_qty"] == 0).all()
    assert future["planned_start_utc"].max() > end_utc + pd.Timedelta(days=25)
    done = orders[orders["status"] == "completed"]
    assert done["actual_end_utc"].notna().all() and (done["planned_end_utc"] > done["planned_start_utc"]).all()
    assert (read(twelve, schema.work_order)["status"] == "open").sum() > 0  # a maintenance backlog


# --- the facts KPIs are computed from ----------------------------------------------------


def test_production_downtime_and_daylight_saving_invariants(history):
    plants = plants_of(history)
    prod, events = read(history, schema.production_daily), read(history, schema.downtime_event)
    assert (prod["run_s"] >= 0).all() and (prod["run_s"] <= prod["planned_busy_s"]).all()
    assert (prod["good_qty"] <= prod["produced_qty"]).all()
    assert (prod["ideal_cycle_s"] * prod["produced_qty"] <= prod["run_s"] + 1e-6).all()
    down = events.groupby(["line_id", "day"])["duration_s"].sum()
    lost = prod.set_index(["line_id", "day"])["planned_busy_s"] - down.reindex(
        prod.set_index(["line_id", "day"]).index, fill_value=0.0
    )
    assert np.allclose(prod["run_s"], lost.clip(lower=0).to_numpy())
    assert ((events["end_utc"] - events["start_utc"]).dt.total_seconds() == events["duration_s"]).all()
    zones = events["plant_id"].map(plants["timezone"])
    local = [ts.astimezone(ZoneInfo(z)).date() for ts, z in zip(events["start_utc"], zones)]
    assert list(events["day"]) == local
    hours = events.loc[events["is_failure"], "duration_s"] / 3600
    assert hours.max() <= 8 + 5 / 60 and 1.0 < hours.median() < 4.0  # lognormal, capped at 8 h
    # a 24/7 plant's planned busy time is the local day: 23 h and 25 h at the DST switches
    round_the_clock = [p["code"] for p in catalog.PLANTS if p["shift"] == "24x7"]
    checked = set()
    for plant_id in plants.index.intersection(round_the_clock):
        tz = ZoneInfo(plants.at[plant_id, "timezone"])
        rows = prod[prod["plant_id"] == plant_id]
        length = rows["day"].map(
            lambda d: (
                datetime.combine(d + timedelta(days=1), datetime.min.time(), tz).timestamp()
                - datetime.combine(d, datetime.min.time(), tz).timestamp()
            )
        )
        assert (rows["planned_busy_s"] == length).all()
        checked |= set(rows.loc[length != 86400, "planned_busy_s"])
    assert checked == {23 * 3600.0, 25 * 3600.0}


def test_vibration_climbs_before_failures_at_iot_plants_only(history):
    plants = plants_of(history)
    health = read(history, schema.asset_health_daily)
    assert set(health["plant_id"]) == set(plants.index[plants["data_maturity"] == "iot"])
    events = read(history, schema.downtime_event)
    failures = events[events["is_failure"] & events["plant_id"].isin(health["plant_id"])]
    health["rel"] = health["vibration_mm_s"] / health.groupby("asset_id")["vibration_mm_s"].transform("median")
    health["until"] = np.inf
    for asset_id, days in failures.groupby("asset_id")["day"]:
        rows = health["asset_id"] == asset_id
        day = pd.to_datetime(health.loc[rows, "day"]).to_numpy()
        fail = np.sort(pd.to_datetime(days).to_numpy())
        nxt = np.searchsorted(fail, day)
        ahead = fail[np.minimum(nxt, len(fail) - 1)] - day
        health.loc[rows, "until"] = np.where(nxt < len(fail), ahead / np.timedelta64(1, "D"), np.inf)
    before = health.loc[health["until"].between(1, 7), "rel"]
    baseline = health.loc[health["until"] > 30, "rel"]
    assert len(failures) >= 10 and len(before) >= 50
    assert before.mean() > 1.3 * baseline.mean()
    # the seed scenario: the packaging line's bottleneck is degrading at the end
    assets = read(history, schema.asset).set_index("asset_id")
    critical = assets.index[(assets["line_id"] == "NA-JOL-L1") & (assets["criticality"] == "A")]
    recent = health[health["asset_id"].isin(critical) & (health["day"] > HISTORY_END - timedelta(days=5))]
    assert recent.groupby("asset_id")["rel"].mean().max() > 1.2


def test_stock_counts_demand_and_purchasing(history):
    """Weekly counts at spreadsheet plants, daily elsewhere; demand and spare-part use; suppliers
    of different reliability delivering against lead times."""
    plants = plants_of(history)
    snaps = read(history, schema.inventory_snapshot)
    for plant_id, days in snaps.groupby("plant_id")["day"]:
        gaps = {b - a for a, b in zip(sorted(set(days)), sorted(set(days))[1:])}
        weekly = plants.at[plant_id, "data_maturity"] == "spreadsheet"
        assert gaps == {timedelta(days=7 if weekly else 1)}, plant_id
        if not weekly:
            assert max(days) == HISTORY_END
    assert (snaps["on_hand"] >= 0).all() and (snaps["on_hand"] == 0).any()  # occasional stockouts
    demand = read(history, schema.demand_daily).merge(read(history, schema.material), on="material_id")
    assert (demand["qty"] > 0).all()
    finished = demand[demand["material_type"] == "finished"].groupby(["plant_id", "material_id"]).size()
    assert (finished == HISTORY_DAYS).all()  # finished goods have demand every day
    # spare parts are used on the days an asset of their class failed or had its PM
    events = read(history, schema.downtime_event).merge(read(history, schema.asset)[["asset_id", "asset_class"]])
    work = events[events["is_failure"] | (events["reason_code"] == "PM")]
    repairs = set(zip(work["plant_id"], work["day"], work["asset_class"]))
    spares = demand[demand["material_type"] == "spare_part"]
    spares = spares[spares["day"] <= spares["plant_id"].map(events.groupby("plant_id")["day"].max())]
    used = zip(spares["plant_id"], spares["day"], spares["asset_class"])
    assert len(spares) > 0 and all(key in repairs for key in used)
    pos = read(history, schema.purchase_order)
    policy = read(history, schema.plant_material)
    lead = pos.merge(policy, on=["plant_id", "material_id", "supplier_id"], validate="many_to_one")
    assert (days_between(lead["promised_day"], lead["ordered_day"]) == lead["lead_time_days"]).all()
    received = pos[pos["status"] == "received"]
    assert received["received_day"].notna().all() and (received["received_day"] >= received["ordered_day"]).all()
    assert pos.loc[pos["status"] != "received", "received_day"].isna().all()
    assert (pos["status"] == "open").any()
    on_time = days_between(received["received_day"], received["promised_day"]) <= 1
    per_supplier = on_time.groupby(received["supplier_id"]).agg(["mean", "size"])
    rated = per_supplier[per_supplier["size"] >= 8]["mean"]
    assert len(rated) >= 3 and rated.max() - rated.min() >= 0.3


# --- scale and the command line -----------------------------------------------------------


@pytest.mark.slow
def test_a_hundred_plants_repeat_the_templates_nearby(empty_engine):
    generate(empty_engine, plants=100, days=14, end_day=END)
    plants = plants_of(empty_engine)
    assert len(plants) == 100 and plants["name"].is_unique
    share = plants["data_maturity"].value_counts(normalize=True)
    for maturity, twelfths in {"iot": 3, "spreadsheet": 4, "mes": 5}.items():
        assert abs(share[maturity] - twelfths / 12) < 0.05
    templates = {p["code"]: p for p in catalog.PLANTS}
    for plant_id, row in plants.iterrows():
        template = templates[re.sub(r"\d+$", "", plant_id)]
        assert row["timezone"] == template["tz"]
        assert abs(row["lat"] - template["lat"]) <= 1.5001 and abs(row["lon"] - template["lon"]) <= 2.0001
    assert read(empty_engine, schema.production_daily)["plant_id"].nunique() == 100


def test_command_line_prints_counts_and_fails_in_one_line(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["--plants", "1", "--days", "14", "--end", "2025-04-10", "--url", url]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert re.search(r"^production_daily\s+[\d,]+$", out, re.MULTILINE)

    def fails(argv, code, fragment):
        if code == 2:
            with pytest.raises(SystemExit) as exit_info:
                main(argv)
            assert exit_info.value.code == 2
        else:
            assert main(argv) == code
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and fragment in err and "Traceback" not in err, err

    fails(args, 1, "already holds plants")
    fails(["--plants", "two"], 2, "invalid int value")
    fails(["--end", "10/04/2025"], 2, "not a date")
    fails(["--plants", "0", "--url", url], 1, "plants must be")
    fails(["--url", "postgresql://postgres@127.0.0.1:1/nowhere"], 1, "warehouse postgresql://")
    fails(["--url", "nosuchdb://x"], 1, "bad warehouse URL")
    fails(["--url", f"sqlite:///{tmp_path / 'cli.db' / 'inside-a-file' / 'x.db'}"], 1, "bad warehouse URL")
    assert main(args + ["--replace"]) == 0
