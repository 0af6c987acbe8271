"""Failure risk, shortage and disruption: the classifier ranks the assets that failed above those
that did not on a time-ordered holdout, is calibrated per plant, never looks ahead; the fallback
hazard and the shortage simulation hold up against hand-checked cases."""

import math
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

import sample_data
from data_access import intelligence as q
from data_access.engine import make_engine
from data_access.scope import PlantScope
from forecasting import failure_risk as fr
from forecasting import shortage as sh

END = date(2026, 6, 30)
EVERY = PlantScope.everything()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Five plants (two with sensors: Joliet and Berlin), 400 days, and the model's inputs."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('risk') / 'warehouse.db'}")
    sample_data.generate(engine, plants=5, days=400, seed=7, end_day=END)
    until = datetime(2026, 7, 1, tzinfo=timezone.utc)
    data = {
        "assets": q.asset_register(engine, EVERY),
        "health": q.health_readings(engine, EVERY, date(2020, 1, 1), END),
        "failures": q.failure_events(engine, EVERY, datetime(2020, 1, 1, tzinfo=timezone.utc), until),
        "repairs": q.completed_repairs(engine, EVERY, until),
        "coverage": dict(q.downtime_coverage(engine, EVERY).itertuples(index=False)),
        "runs": q.line_run_daily(engine, EVERY, END - timedelta(days=400), END),
    }
    yield data
    engine.dispose()


@pytest.fixture(scope="module")
def frame(inputs):
    return fr.features(
        inputs["health"], inputs["assets"], inputs["failures"], inputs["repairs"], label_until=inputs["coverage"]
    )


@pytest.fixture(scope="module")
def trained(frame):
    return fr.train(frame)


def test_only_plants_with_sensors_have_feature_rows(frame, inputs):
    iot = set(inputs["assets"].loc[inputs["assets"]["data_maturity"] == "iot", "plant_id"])
    assert set(frame["plant_id"]) == iot == {"NA-JOL", "EU-BER"}
    assert set(frame.columns) >= set(fr.FEATURES) | {"failed_within"}


def test_the_split_is_time_ordered_with_gaps(trained, frame):
    s = trained.split
    assert s.train_end < s.cal_start <= s.cal_end < s.test_start <= s.test_end
    assert (s.cal_start - s.train_end).days > fr.HORIZON_DAYS
    assert (s.test_start - s.cal_end).days > fr.HORIZON_DAYS
    parts = fr.blocks(frame, s)
    assert parts["train"]["day"].max() < parts["cal"]["day"].min()
    assert parts["cal"]["day"].max() < parts["test"]["day"].min()


def test_assets_that_failed_are_ranked_above_those_that_did_not(trained):
    metrics = trained.metrics.set_index("plant_id")
    assert set(metrics.index) == {"NA-JOL", "EU-BER"}
    for plant, m in metrics.iterrows():
        assert m["positives"] >= 30, plant  # enough failures in the holdout to judge
        assert m["auc"] > 0.8, (plant, m["auc"])  # chance is 0.5
        assert m["brier"] < m["base_rate"] * (1 - m["base_rate"]), plant  # beats always saying the base rate
        assert m["precision"] is not None and m["precision"] > 2 * m["base_rate"], plant


def test_the_ranking_does_not_come_from_the_label_leaking_into_features(frame, trained):
    """Shuffle the labels within each day of the train block: a leak-free model learns nothing."""
    rng = np.random.default_rng(0)
    shuffled = frame.copy()
    labelled = shuffled["failed_within"].notna()
    shuffled.loc[labelled, "failed_within"] = rng.permutation(shuffled.loc[labelled, "failed_within"].to_numpy())
    control = fr.train(shuffled)
    assert control.metrics["auc"].max() < 0.6


def test_each_sensor_plant_is_calibrated_on_its_own_history(trained, frame):
    model = trained.model
    assert set(model.calibrators_) == {"NA-JOL", "EU-BER"}
    assert {model.calibration_of(p) for p in ("NA-JOL", "EU-BER")} == {"plant"}
    test = fr.blocks(frame, trained.split)["test"]
    proba = model.predict_proba(test, test["plant_id"].to_numpy())[:, 1]
    for plant in ("NA-JOL", "EU-BER"):
        mask = (test["plant_id"] == plant).to_numpy()
        observed, predicted = test["failed_within"].to_numpy()[mask].mean(), proba[mask].mean()
        assert abs(predicted - observed) < 0.05, (plant, predicted, observed)  # calibration in the large
    # the plant calibrations differ: each plant's sigmoid is its own
    a, b = (model.calibrators_[p].coef_.ravel()[0] for p in ("NA-JOL", "EU-BER"))
    assert a != b


def test_a_plant_with_too_few_failures_uses_the_global_calibration(frame):
    result = fr.train(frame, min_cal_positives=10_000)
    assert result.model.calibrators_ == {}
    assert set(result.metrics["calibration"]) == {"global"}
    assert (result.metrics["auc"] > 0.8).all()  # ranking is the global model's either way


def test_features_never_look_ahead(inputs, frame):
    cut = date(2026, 3, 1)
    health = inputs["health"][inputs["health"]["day"] <= cut]
    failures = inputs["failures"][inputs["failures"]["day"] <= cut]
    repairs = inputs["repairs"][inputs["repairs"]["completed_utc"] < pd.Timestamp(cut, tz="UTC")]
    early = fr.features(health, inputs["assets"], failures, repairs, label_until=inputs["coverage"])
    keep = fr.NUMERIC
    left = early[early["day"] <= cut - timedelta(days=2)].set_index(["asset_id", "day"])[keep]
    right = frame.set_index(["asset_id", "day"]).loc[left.index, keep]
    pd.testing.assert_frame_equal(left, right)


def test_labels_beyond_the_downtime_feed_are_unknown_not_negative(inputs):
    coverage = {p: END - timedelta(days=20) for p in inputs["coverage"]}
    f = fr.features(inputs["health"], inputs["assets"], inputs["failures"], inputs["repairs"], label_until=coverage)
    late = f[f["day"] > END - timedelta(days=20 + fr.HORIZON_DAYS)]
    assert late["failed_within"].isna().all()
    assert f[f["day"] <= END - timedelta(days=30)]["failed_within"].notna().all()


def test_a_stored_model_loads_only_with_its_hash(trained, frame):
    text, sha = fr.dump(trained.model)
    loaded = fr.load(text, sha)
    rows = frame.tail(200)
    np.testing.assert_allclose(
        loaded.predict_proba(rows, rows["plant_id"].to_numpy()),
        trained.model.predict_proba(rows, rows["plant_id"].to_numpy()),
    )
    with pytest.raises(ValueError, match="does not match its recorded sha256"):
        fr.load(text, "0" * 64)


def test_training_without_sensor_data_says_why():
    empty = fr.features(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    with pytest.raises(ValueError, match="no labelled sensor day"):
        fr.train(empty)


# --- fallback hazard ---------------------------------------------------------------------------


def test_weibull_probability_matches_its_formula():
    eta = 100.0 / math.gamma(1.5)
    expected = 1 - math.exp(-(((50 + 20) / eta) ** 2 - (50 / eta) ** 2))
    assert fr.weibull_probability(50, 20, 100, 2.0) == pytest.approx(expected)
    assert fr.weibull_probability(10, 20, 100) < fr.weibull_probability(90, 20, 100)  # wear-out: rises with age
    assert fr.weibull_probability(10, 20, float("nan")) == 0.0
    assert fr.weibull_probability(10, 0, 100) == 0.0


def test_the_fallback_scores_every_asset_from_its_mtbf(inputs):
    as_of = datetime(2026, 7, 1, 6, tzinfo=timezone.utc)
    rules = fr.fallback_hazard(inputs["assets"], inputs["failures"], inputs["repairs"], inputs["runs"], as_of)
    assert len(rules) == len(inputs["assets"])
    assert rules["risk"].between(0, 1).all() and rules["risk"].gt(0).mean() > 0.9
    own = rules[rules["mtbf_basis"] == "asset"].iloc[0]
    asset = inputs["assets"].set_index("asset_id").loc[own["asset_id"]]
    runs = inputs["runs"]
    window = runs[(runs["line_id"] == asset["line_id"]) & (runs["day"] > as_of.date() - timedelta(days=365))]
    assert own["mtbf_h"] == pytest.approx(window["run_s"].sum() / 3600 / own["failures_lookback"])


# --- shortage and disruption ---------------------------------------------------------------------

DAY = date(2026, 7, 1)


def _stock(on_hand, lead=10.0, supplier="S1"):
    return pd.DataFrame(
        [
            dict(
                plant_id="P",
                material_id="M",
                name="m",
                material_type="raw",
                unit="kg",
                supplier_id=supplier,
                lead_time_days=lead,
                safety_stock=0.0,
                reorder_point=0.0,
                on_hand=float(on_hand),
                snapshot_day=DAY,
            )
        ]
    )


def _use(per_day=10.0):
    days = [DAY - timedelta(days=i) for i in range(sh.CONSUMPTION_DAYS)]
    return pd.DataFrame({"plant_id": "P", "material_id": "M", "day": days, "qty": per_day})


def _pos(*orders):
    return pd.DataFrame(
        [
            dict(
                po_id=f"PO{i}",
                plant_id="P",
                material_id="M",
                supplier_id=s,
                qty=q,
                ordered_day=DAY,
                promised_day=DAY + timedelta(days=d),
            )
            for i, (q, d, s) in enumerate(orders)
        ],
        columns=["po_id", "plant_id", "material_id", "supplier_id", "qty", "ordered_day", "promised_day"],
    )


def _record(supplier, delays):
    return pd.DataFrame(
        {
            "supplier_id": supplier,
            "plant_id": "P",
            "material_id": "M",
            "promised_day": DAY,
            "received_day": DAY,
            "delay_days": delays,
        }
    )


def test_plenty_of_stock_never_runs_out_and_none_always_does():
    empty = _record("S1", [0])
    plenty = sh.shortage_probability(_stock(1000), _use(), _pos(), empty, {}, DAY)
    assert plenty["risk"].iloc[0] == 0.0
    none = sh.shortage_probability(_stock(0), _use(), _pos(), empty, {}, DAY)
    assert none["risk"].iloc[0] == 1.0 and none["by_day"].iloc[0][0] == 1.0
    # 55 units at 10 a day last 5.5 days: out on day 6 in every run
    exact = sh.shortage_probability(_stock(55), _use(), _pos(), empty, {}, DAY)
    assert exact["by_day"].iloc[0][4] == 0.0 and exact["by_day"].iloc[0][5] == 1.0


def test_an_unreliable_supplier_raises_the_shortage_probability():
    reliable = sh.shortage_probability(_stock(40), _use(), _pos((500, 3, "S1")), _record("S1", [0] * 20), {}, DAY)
    late = sh.shortage_probability(_stock(40), _use(), _pos((500, 3, "S1")), _record("S1", [0, 8, 9, 10] * 5), {}, DAY)
    assert reliable["risk"].iloc[0] == 0.0
    assert 0.6 < late["risk"].iloc[0] < 0.9  # three of four deliveries arrive after stock ran out on day 5
    assert late["supplier_on_time"].iloc[0] == pytest.approx(0.25)


def test_the_forecast_factor_scales_raw_material_use():
    faster = sh.shortage_probability(_stock(75), _use(), _pos(), _record("S1", [0]), {"P": 1.5}, DAY)
    usual = sh.shortage_probability(_stock(75), _use(), _pos(), _record("S1", [0]), {}, DAY)
    assert faster["by_day"].iloc[0][4] == 0.0 and faster["by_day"].iloc[0][5] == 1.0  # 15 a day: short on day 6
    assert usual["by_day"].iloc[0][6] == 0.0 and usual["by_day"].iloc[0][7] == 1.0  # 10 a day: short on day 8
    assert sh.forecast_factor(pd.Series([10.0] * 28), pd.Series([30.0] * 28)) == sh.FACTOR_BOUNDS[1]
    assert sh.forecast_factor(pd.Series([0.0] * 28), pd.Series([30.0] * 28)) == 1.0


def test_the_shortage_rule_grades_days_of_supply_against_lead_time():
    rule = sh.shortage_rule(_stock(50, lead=10), _use(), _pos((20, 4, "S1")), DAY)
    assert rule["days_of_supply"].iloc[0] == pytest.approx(7.0)
    assert rule["risk"].iloc[0] == pytest.approx(0.3)


def test_disruption_combines_line_and_material_risk():
    as_of = datetime(2026, 7, 1, tzinfo=timezone.utc)
    orders = pd.DataFrame(
        [
            dict(
                order_id="O1",
                plant_id="P",
                line_id="L1",
                product_id="FG",
                planned_start_utc=pd.Timestamp(as_of),
                planned_end_utc=pd.Timestamp(as_of) + pd.Timedelta(days=7),
            )
        ]
    )
    assets = pd.DataFrame({"asset_id": ["A1", "A2"], "line_id": "L1"})
    bom = pd.DataFrame({"product_id": "FG", "material_id": ["M1", "M2"], "qty_per_unit": 1.0})
    out = sh.disruption_probability(
        orders, assets, {"A1": 0.2, "A2": 0.1}, bom, {("P", "M1"): [0.0] * 6 + [0.3] * 4, ("P", "M2"): [0.5]}, as_of
    )
    line = 1 - 0.8 * 0.9
    material = 1 - 0.7 * 0.5
    assert out["line_risk"].iloc[0] == pytest.approx(line)
    assert out["material_risk"].iloc[0] == pytest.approx(material)
    assert out["risk"].iloc[0] == pytest.approx(1 - (1 - line) * (1 - material))
    assert out["worst_material"].iloc[0] == "M2"
    assert sh.window_probability(0.2, 14) == pytest.approx(1 - 0.8**2)
