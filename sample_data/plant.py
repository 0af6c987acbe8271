"""One plant's facts, simulated from its layout: one pass, vectorized over lines and days.

Order of the story: assets fail (Weibull renewals, faster for old assets and lax maintenance)
and get preventive maintenance; lines also stop for changeovers, cleaning, starvation and
quality; what is left of the shift is run time, which makes output; output consumes
materials through the bill of materials, failures and PM consume spare parts; a reorder-point
policy buys them from suppliers of different reliability. Feeds then cut what the warehouse
has received (late spreadsheet uploads, current outages, a few historical gaps).

Times are epoch seconds (float64) until the end, where they become timezone-aware UTC
datetimes; `day` indexes are plant-local days counted from the window's first day.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from sample_data import catalog, network

HORIZON_DAYS = 30  # production orders are scheduled this far past end_day
PM_NOTICE_DAYS = 14  # preventive work orders open this long before their PM
BACKLOG_DAYS = 120  # skipped PMs this recent stay open as overdue work orders
RAMP_DAYS = (7, 21)  # degradation shows this many operating days before a failure
COUNT_WEEKDAY = 4  # spreadsheet plants count stock on Fridays
HOUR = 3600.0
DAY = 86400.0

# Line stops other than failures and PM: reason codes with their odds, median minutes,
# spread (lognormal sigma) and which asset of the line they are booked on.
STOPS = {
    "changeover": ({"CO_PRODUCT": 0.7, "CO_FORMAT": 0.3}, 45, 0.5, "bottleneck"),
    "starved": ({"NO_MATERIAL": 0.4, "NO_OPERATOR": 0.25, "UPSTREAM": 0.35}, 25, 0.7, "first"),
    "quality": ({"QA_HOLD": 0.5, "QA_ADJUST": 0.5}, 40, 0.6, "any"),
}


@dataclass(frozen=True)
class World:
    """What every plant simulation shares: the seed, the window and the shared dimensions."""

    seed: int
    start: date
    days: int
    shared: network.Shared

    @property
    def material_type(self) -> dict:
        return dict(zip(self.shared.material["material_id"], self.shared.material["material_type"]))

    @property
    def material_name(self) -> dict:
        return dict(zip(self.shared.material["material_id"], self.shared.material["name"]))


class Calendar:
    """Plant-local days as UTC instants, and the shift's busy window on each day.

    Busy time is computed from local wall-clock times with zoneinfo, so a 24 h pattern is
    23 h on the spring-forward day and 25 h on the fall-back day.
    """

    def __init__(self, template: dict, start: date, n_days: int):
        tz = ZoneInfo(template["tz"])
        weekdays, h0, h1 = catalog.SHIFTS[template["shift"]]
        self.start = start
        dates = [start + timedelta(days=i) for i in range(n_days + 2)]
        self.midnight = np.array([_epoch(d, 0, tz) for d in dates])
        days = dates[:n_days]
        opens = np.array([_epoch(d, h0, tz) for d in days])
        closes = self.midnight[1 : n_days + 1] if h1 == 24 else np.array([_epoch(d, h1, tz) for d in days])
        shut = _shutdown_days(days) if template["region"] == "EU" and template["shift"] != "24x7" else set()
        works = np.array([d.weekday() in weekdays and d not in shut for d in days])
        self.weekday = np.array([d.weekday() for d in days])
        self.day_of_year = np.array([d.timetuple().tm_yday for d in days])
        self.open_s = opens - self.midnight[:n_days]  # busy window start, seconds after local midnight
        self.busy_s = np.where(works, closes - opens, 0.0)
        self.utc_midnight = np.array([datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp() for d in dates])

    def day_of(self, t):
        """Plant-local day index of epoch seconds `t`."""
        return np.searchsorted(self.midnight, t, side="right") - 1

    def dates(self, index):
        """datetime.date objects for day indexes (any range, also past the calendar)."""
        return (np.datetime64(self.start, "D") + np.asarray(index, dtype="int64")).astype(object)


def _epoch(d: date, hour: int, tz) -> float:
    return datetime(d.year, d.month, d.day, hour, tzinfo=tz).timestamp()


def _shutdown_days(days) -> set:
    (month, day), length = catalog.EU_SHUTDOWN
    years = {d.year for d in days} | {days[0].year - 1}
    return {date(y, month, day) + timedelta(days=k) for y in years for k in range(length)}


def simulate(index: int, world: World) -> dict[str, pd.DataFrame]:
    """Every dimension and fact row of plant `index`, keyed by table name."""
    return _Plant(index, world).tables()


class _Plant:
    def __init__(self, index: int, world: World):
        self.index = index
        self.rng = network.plant_rng(world.seed, index)
        self.world = world
        self.layout = network.plant_layout(index, world.start, world.shared, self.rng)
        self.t = self.layout.template
        self.wf = catalog.WORKFLOWS[self.t["workflow"]]
        self.n = world.days
        self.cal = Calendar(self.t, world.start, world.days + HORIZON_DAYS)
        self.work = np.flatnonzero(self.cal.busy_s[: self.n] > 0)  # working days in the window
        self.work_all = np.flatnonzero(self.cal.busy_s > 0)  # ... and in the horizon
        self.now = self.cal.midnight[self.n]  # end of end_day, plant-local
        self.first_of_template = index < network.TEMPLATES
        self.spreadsheet = self.t["maturity"] == "spreadsheet"
        self.pid = self.layout.plant["plant_id"]
        self.line_list = self.layout.lines.to_dict("records")
        self.asset_list = self.layout.assets.to_dict("records")

    def tables(self) -> dict[str, pd.DataFrame]:
        failures = self._failures()
        pm = self._pm_schedule()
        events = self._events(failures, pm)
        prod = self._production(events)
        cut, feeds = self._feeds()
        gaps = self._gap_days()
        out = {
            "plant": pd.DataFrame([self.layout.plant]),
            "line": self.layout.lines[["line_id", "plant_id", "name", "line_type", "local_code"]],
            "asset": self.layout.assets[
                [
                    "asset_id",
                    "plant_id",
                    "line_id",
                    "asset_class",
                    "criticality",
                    "local_code",
                    "local_name",
                    "install_year",
                ]
            ],
        }
        out.update(self._supply(events, prod, cut))
        out["production_daily"] = self._production_rows(prod, cut["production"], gaps)
        out["downtime_event"] = self._downtime_rows(events, cut["downtime"])
        if "health" in cut:
            out["asset_health_daily"] = self._health(failures, prod, cut["health"], gaps)
        out["work_order"] = self._work_orders(events, pm)
        out["production_order"] = self._orders(events)
        out["plan_revision"] = self._plan_revisions(out["production_order"])
        out["feed_status"] = feeds
        return out

    # --- maintenance and stops -------------------------------------------------------

    def _failures(self) -> pd.DataFrame:
        """Failure operating-day indexes per asset, including the next one past the window.

        At iot plants the packaging line's bottleneck has no failure in its last 30 operating
        days and one due a few days after end_day: its degradation is under way at the end,
        the seed scenario's rising failure probability.
        """
        assets, rng = self.layout.assets, self.rng
        n_work = len(self.work)
        per_asset = []
        for a in self.asset_list:
            age = self.world.start.year - a["install_year"]
            eta = a["mtbf"] / self.wf["hazard"] * max(0.5, 1 - 0.02 * age) * rng.uniform(0.8, 1.25)
            per_asset.append(_renewals(rng, eta, a["shape"], n_work + RAMP_DAYS[1]))
        ramps = [rng.integers(RAMP_DAYS[0], RAMP_DAYS[1] + 1, len(ops)) for ops in per_asset]
        if self.t["maturity"] == "iot":
            b = int(self.layout.lines["bottleneck"].iloc[0])
            keep = per_asset[b] < n_work - 30
            per_asset[b] = np.append(per_asset[b][keep], n_work + int(rng.integers(3, 7)))
            ramps[b] = np.append(ramps[b][keep], RAMP_DAYS[1])
        frame = pd.DataFrame(
            {
                "asset": np.repeat(np.arange(len(assets)), [len(o) for o in per_asset]),
                "op": np.concatenate(per_asset).astype(int),
                "ramp": np.concatenate(ramps).astype(int),
            }
        )
        frame["day"] = np.where(frame["op"] < n_work, self.work[np.minimum(frame["op"], n_work - 1)], -1)
        return frame

    def _pm_schedule(self) -> pd.DataFrame:
        """Planned PM days per asset (window and notice period); some PMs get skipped."""
        rows = []
        interval_days = self.wf["pm_days"]
        if interval_days:
            limit = self.n + PM_NOTICE_DAYS
            for i, a in enumerate(self.asset_list):
                if a["criticality"] not in self.wf["pm_for"]:
                    continue
                interval = interval_days * self.rng.uniform(0.9, 1.1)
                planned = self.rng.uniform(0, interval) + interval * np.arange(int(limit / interval) + 1)
                planned = planned[planned < limit].astype(int)
                pos = np.minimum(np.searchsorted(self.work_all, planned), len(self.work_all) - 1)
                days = np.unique(self.work_all[pos])
                skipped = self.rng.random(len(days)) < self.wf["pm_skip"]
                rows.append({"asset": i, "day": days, "skipped": skipped})
        return _stack(rows, {"asset": int, "day": int, "skipped": bool})

    def _events(self, failures: pd.DataFrame, pm: pd.DataFrame) -> pd.DataFrame:
        """Every recorded downtime event, placed without overlap inside its line's shift."""
        rng, assets = self.rng, self.layout.assets
        parts = []
        f = failures[failures["day"] >= 0]
        f_dur = np.exp(rng.normal(np.log(1.8 * HOUR), 0.75, len(f))) * self.wf["repair"]
        parts.append(
            {
                "asset": f["asset"].to_numpy(),
                "day": f["day"].to_numpy(),
                "dur": np.clip(f_dur, 0.5 * HOUR, 8 * HOUR),
                "reason": rng.choice(list(catalog.FAILURE_MIX), p=list(catalog.FAILURE_MIX.values()), size=len(f)),
            }
        )
        done = pm[~pm["skipped"] & (pm["day"] < self.n)]
        parts.append(
            {
                "asset": done["asset"].to_numpy(),
                "day": done["day"].to_numpy(),
                "reason": "PM",
                "dur": np.clip(np.exp(rng.normal(np.log(2 * HOUR), 0.4, len(done))), 0.5 * HOUR, 6 * HOUR),
            }
        )
        share = self.cal.busy_s[self.work] / DAY * catalog.MATURITY[self.t["maturity"]]["stops"] * rng.uniform(0.8, 1.8)
        for line in self.line_list:
            rates = catalog.STOP_RATES[line["line_type"]]
            for kind, (codes, median_min, sigma, booked_on) in STOPS.items():
                days = np.repeat(self.work, rng.poisson(rates[kind] * share))
                reason = rng.choice(list(codes), p=list(codes.values()), size=len(days))
                dur = np.exp(rng.normal(np.log(median_min * 60), sigma, len(days)))
                dur = np.where(reason == "CO_FORMAT", dur * 1.8, dur)
                if booked_on == "any":
                    asset = line["first_asset"] + rng.integers(0, line["n_assets"], len(days))
                else:
                    asset = line["bottleneck"] if booked_on == "bottleneck" else line["first_asset"]
                parts.append({"asset": asset, "day": days, "dur": dur, "reason": reason})
            if line["line_type"] in catalog.CLEANING_LINES:
                days = self.work[self.cal.weekday[self.work] == rng.integers(0, 5)]
                parts.append(
                    {
                        "asset": line["bottleneck"],
                        "day": days,
                        "reason": "CLEAN",
                        "dur": np.exp(rng.normal(np.log(2 * HOUR), 0.3, len(days))),
                    }
                )
        ev = _stack(parts, {"asset": int, "day": int, "dur": float, "reason": object})
        if self.spreadsheet:
            ev = ev[ev["dur"] >= 600].reset_index(drop=True)  # short stops never reach the paper log
        ev["line"] = assets["line"].to_numpy()[ev["asset"]]
        ev["u"] = rng.random(len(ev))
        ev = ev.sort_values(["line", "day", "u"], kind="stable", ignore_index=True)
        # Stops of a line-day fill at most 98% of its shift; the rest is split into gaps at
        # sorted uniform points, so events never overlap and never leave their day.
        busy = self.cal.busy_s[ev["day"]]
        total = ev.groupby(["line", "day"], sort=False)["dur"].transform("sum").to_numpy()
        scale = np.minimum(1.0, 0.98 * busy / total)
        dur = ev["dur"].to_numpy() * scale
        before = pd.Series(dur).groupby([ev["line"], ev["day"]], sort=False).cumsum().to_numpy() - dur
        offset = self.cal.open_s[ev["day"]] + ev["u"].to_numpy() * (busy - total * scale) + before
        start = np.round(self.cal.midnight[ev["day"]] + offset)
        dur = np.maximum(np.round(dur), 1.0)
        if self.spreadsheet:  # logged by hand in 5-minute steps
            start = np.floor(start / 300) * 300
            dur = np.ceil(dur / 300) * 300
        ev["start"], ev["dur"] = start, dur
        ev["end"] = start + dur
        codes = ev["reason"].to_numpy()
        ev["category"] = [catalog.REASONS[c][0] for c in codes]
        texts = catalog.LOCAL_REASONS[self.t["lang"]]
        pick = rng.random(len(ev))
        ev["local_reason"] = [texts[c][int(p * len(texts[c]))] for c, p in zip(codes, pick)]
        return ev.sort_values(["start", "line", "asset"], kind="stable", ignore_index=True)

    # --- production ---------------------------------------------------------------------

    def _production(self, events: pd.DataFrame) -> dict:
        """Run time, output and good output per line and window day (zero off shift)."""
        rng, lines = self.rng, self.layout.lines
        shape = (len(lines), self.n)
        down = np.zeros(shape)
        np.add.at(down, (events["line"].to_numpy(), events["day"].to_numpy()), events["dur"].to_numpy())
        holds = np.zeros(shape)
        q = events[events["category"] == "quality"]
        np.add.at(holds, (q["line"].to_numpy(), q["day"].to_numpy()), 1.0)
        busy = np.broadcast_to(self.cal.busy_s[: self.n], shape)
        run = np.clip(busy - down, 0.0, None)
        ideal = lines["ideal_cycle_s"].to_numpy()[:, None]
        perf = np.clip(lines["perf"].to_numpy()[:, None] + rng.normal(0, 0.02, shape), 0.80, 0.97)
        produced = np.floor(run / ideal * perf)
        qual = np.clip(lines["qual"].to_numpy()[:, None] + rng.normal(0, 0.005, shape) - 0.01 * holds, 0.95, 0.995)
        good = np.floor(produced * qual)
        if self.spreadsheet:  # counted in tens
            produced, good = np.floor(produced / 10) * 10, np.floor(good / 10) * 10
        return dict(busy=busy, run=run, produced=produced, good=good)

    def _production_rows(self, prod: dict, cut: int, gaps: set) -> pd.DataFrame:
        lines = self.layout.lines
        li, day = np.nonzero(prod["busy"] > 0)
        keep = (day <= cut) & ~np.isin(day, list(gaps))
        li, day = li[keep], day[keep]
        return pd.DataFrame(
            {
                "line_id": lines["line_id"].to_numpy()[li],
                "day": self.cal.dates(day),
                "plant_id": self.pid,
                "planned_busy_s": prod["busy"][li, day],
                "run_s": prod["run"][li, day],
                "ideal_cycle_s": lines["ideal_cycle_s"].to_numpy()[li],
                "produced_qty": prod["produced"][li, day],
                "good_qty": prod["good"][li, day],
            }
        )

    def _downtime_rows(self, events: pd.DataFrame, cut: int) -> pd.DataFrame:
        ev = events[events["day"] <= cut]
        assets, lines = self.layout.assets, self.layout.lines
        return pd.DataFrame(
            {
                "plant_id": self.pid,
                "line_id": lines["line_id"].to_numpy()[ev["line"]],
                "asset_id": assets["asset_id"].to_numpy()[ev["asset"]],
                "start_utc": _utc(ev["start"]),
                "end_utc": _utc(ev["end"]),
                "day": self.cal.dates(ev["day"]),
                "duration_s": ev["dur"].to_numpy(),
                "reason_code": ev["reason"].to_numpy(),
                "category": ev["category"].to_numpy(),
                "is_failure": (ev["category"] == "failure").to_numpy(),
                "local_reason": ev["local_reason"].to_numpy(),
            }
        )

    def _health(self, failures: pd.DataFrame, prod: dict, cut: int, gaps: set) -> pd.DataFrame:
        """Daily sensor readings on operating days; vibration, temperature and current climb
        over the 7-21 operating days before each failure and reset after the repair."""
        rng, assets = self.rng, self.layout.assets
        work, n_work, n_assets = self.work, len(self.work), len(assets)
        line = assets["line"].to_numpy()
        age = self.world.start.year - assets["install_year"].to_numpy()
        vib0 = assets["vib"].to_numpy() * (1 + 0.012 * age) * rng.uniform(0.85, 1.15, n_assets)
        vib = vib0[:, None] * (1 + rng.normal(0, 0.06, (n_assets, n_work)))
        season = np.sin(2 * np.pi * (self.cal.day_of_year[work] - 110) / 365.25)  # warmest in late July
        ambient = 6 * abs(self.layout.plant["lat"]) / 50 * season
        temp = assets["temp"].to_numpy()[:, None] + ambient + rng.normal(0, 0.8, (n_assets, n_work))
        load = prod["run"][line][:, work] / prod["busy"][line][:, work]
        amps0 = assets["amps"].to_numpy()[:, None]
        amps = amps0 * (0.3 + 0.7 * load) * (1 + rng.normal(0, 0.03, (n_assets, n_work)))
        prev = failures.groupby("asset")["op"].shift(fill_value=-1).to_numpy()
        for (a, f, ramp), p_op in zip(failures[["asset", "op", "ramp"]].to_numpy(), prev):
            lo, hi = max(f - ramp + 1, p_op + 1, 0), min(f, n_work - 1)
            if lo > hi:
                continue
            x = (np.arange(lo, hi + 1) - (f - ramp)) / ramp
            vib[a, lo : hi + 1] += vib0[a] * rng.uniform(1.0, 2.2) * x**2
            temp[a, lo : hi + 1] += rng.uniform(5, 14) * x**1.5
            amps[a, lo : hi + 1] += 0.12 * amps0[a, 0] * x
        a_idx, w_idx = np.divmod(np.arange(n_assets * n_work), n_work)
        day = work[w_idx]
        keep = (day <= cut) & ~np.isin(day, list(gaps))
        a_idx, w_idx, day = a_idx[keep], w_idx[keep], day[keep]
        return pd.DataFrame(
            {
                "asset_id": assets["asset_id"].to_numpy()[a_idx],
                "day": self.cal.dates(day),
                "plant_id": self.pid,
                "vibration_mm_s": np.round(vib[a_idx, w_idx], 3),
                "temperature_c": np.round(temp[a_idx, w_idx], 2),
                "current_a": np.round(amps[a_idx, w_idx], 2),
                "run_hours": np.round(prod["run"][line[a_idx], day] / HOUR, 3),
            }
        )

    def _work_orders(self, events: pd.DataFrame, pm: pd.DataFrame) -> pd.DataFrame:
        """Corrective per failure, preventive per PM (skipped and upcoming ones open),
        inspections where the workflow has them; recent and unfinished ones stay open."""
        rng, wf = self.rng, self.wf
        lag = wf["close_lag_h"] * HOUR
        fail = events[events["category"] == "failure"]
        created = fail["start"].to_numpy() + rng.uniform(120, 1800, len(fail))
        completed = fail["end"].to_numpy() + rng.uniform(0, lag, len(fail))
        follow_up = (fail["start"].to_numpy() > self.now - 30 * DAY) & (rng.random(len(fail)) < 0.25)
        parts = [(fail["asset"].to_numpy(), "corrective", created, np.where(follow_up, np.nan, completed))]
        done = events[events["reason"] == "PM"]
        created = done["start"].to_numpy() - rng.uniform(3, 10, len(done)) * DAY
        parts.append(
            (
                done["asset"].to_numpy(),
                "preventive",
                created,
                done["end"].to_numpy() + rng.uniform(0, lag / 2, len(done)),
            )
        )
        due = pm[(pm["skipped"] & (pm["day"] >= self.n - BACKLOG_DAYS)) | (pm["day"] >= self.n)]
        due_at = self.cal.midnight[due["day"].to_numpy()] + self.cal.open_s[due["day"].to_numpy()]
        parts.append(
            (
                due["asset"].to_numpy(),
                "preventive",
                due_at - rng.uniform(3, PM_NOTICE_DAYS, len(due)) * DAY,
                np.full(len(due), np.nan),
            )
        )
        if wf["inspect"]:
            crit_a = np.flatnonzero(self.layout.assets["criticality"].to_numpy() == "A")
            days = self.work[::10]  # every second week on a 5-day pattern, more often on 7-day ones
            asset = np.repeat(crit_a, len(days))
            day = np.tile(days, len(crit_a))
            created = self.cal.midnight[day] + self.cal.open_s[day] + rng.uniform(0, 4 * HOUR, len(day))
            parts.append((asset, "inspection", created, created + rng.uniform(0.5, 2, len(day)) * HOUR))
        wo = pd.DataFrame(
            {
                "asset": np.concatenate([p[0] for p in parts]).astype(int),
                "wo_type": np.concatenate([np.full(len(p[0]), p[1]) for p in parts]),
                "created": np.round(np.concatenate([p[2] for p in parts])),
                "completed": np.round(np.concatenate([p[3] for p in parts])),
            }
        )
        wo = wo[wo["created"] <= self.now]
        wo.loc[wo["completed"] > self.now, "completed"] = np.nan
        wo = wo.sort_values(["created", "asset"], kind="stable", ignore_index=True)
        seq = np.arange(len(wo))
        created_dt = _utc(wo["created"])
        return pd.DataFrame(
            {
                "wo_id": [f"{self.pid}-WO-{i + 1:06d}" for i in seq],
                "plant_id": self.pid,
                "asset_id": self.layout.assets["asset_id"].to_numpy()[wo["asset"]],
                "wo_type": wo["wo_type"].to_numpy(),
                "status": np.where(wo["completed"].isna(), "open", "closed"),
                "created_utc": created_dt,
                "completed_utc": _utc(wo["completed"]),
                "local_code": [_wo_code(wf["wo_style"], i, c) for i, c in zip(seq, created_dt.astype(object))],
            }
        )

    # --- materials ----------------------------------------------------------------------

    def _supply(self, events: pd.DataFrame, prod: dict, cut: dict) -> dict[str, pd.DataFrame]:
        """Demand, consumption, a reorder-point stock simulation and its purchase orders."""
        rng, n, shared = self.rng, self.n, self.world.shared
        mat = shared.material.set_index("material_id")
        products = self.layout.products
        bom = shared.bom[shared.bom["product_id"].isin(products)]
        inputs = sorted(bom["material_id"].unique())
        classes = set(self.layout.assets["asset_class"])
        spares = sorted(mat.index[mat["asset_class"].isin(classes)])
        items = products + inputs + spares
        types, names = self.world.material_type, self.world.material_name
        kind = np.array([types[m] for m in items])
        row = {m: i for i, m in enumerate(items)}
        mix = self.layout.line_mix
        produced_p = prod["produced"].T @ mix  # days x products
        good_p = prod["good"].T @ mix
        use = np.zeros((len(items), n))
        b = np.zeros((len(products), len(inputs)))
        for r in bom.itertuples():
            b[products.index(r.product_id), inputs.index(r.material_id)] = r.qty_per_unit
        use[len(products) : len(products) + len(inputs)] = (produced_p @ b).T
        # spare parts: failures take one of the class's parts, most PMs the wear part
        parts = {c: mat.index[mat["asset_class"] == c].tolist() for c in classes}
        cls = self.layout.assets["asset_class"].to_numpy()
        ev = events[events["category"] == "failure"]
        part = (rng.random(len(ev)) < 0.4).astype(int)
        np.add.at(use, ([row[parts[c][k]] for c, k in zip(cls[ev["asset"]], part)], ev["day"].to_numpy()), 1.0)
        ev = events[events["reason"] == "PM"]
        ev = ev[rng.random(len(ev)) < 0.7]
        np.add.at(use, ([row[parts[c][0]] for c in cls[ev["asset"]]], ev["day"].to_numpy()), 1.0)
        # finished goods: demand with trend, weekly and yearly seasonality, scaled to output
        t = np.arange(n)
        weekly = np.array([1.1, 1.05, 1.05, 1.05, 1.15, 0.8, 0.8])[self.cal.weekday[:n]]
        for p in range(len(products)):
            trend = 1 + rng.uniform(0.01, 0.06) * (t - n / 2) / 365
            amplitude, peak = rng.uniform(0.05, 0.18), rng.uniform(0, 365)
            yearly = 1 + amplitude * np.sin(2 * np.pi * (self.cal.day_of_year[:n] - peak) / 365.25)
            shape = trend * yearly * weekly * np.exp(rng.normal(0, 0.1, n))
            use[p] = np.round(good_p[:, p].mean() * rng.uniform(0.97, 1.03) * shape / shape.mean())
        policy = self._policy(items, kind, use)
        on_hand, orders = self._stock(kind, use, good_p, policy)
        return {
            "plant_material": pd.DataFrame(
                {
                    "plant_id": self.pid,
                    "material_id": items,
                    "local_code": [network.material_local_code(self.t, m, names[m]) for m in items],
                    "supplier_id": policy["supplier"],
                    "lead_time_days": policy["lead_out"],
                    "safety_stock": policy["safety"],
                    "reorder_point": policy["rop"],
                }
            ),
            "inventory_snapshot": self._snapshot_rows(items, kind, on_hand, cut["inventory"]),
            "demand_daily": self._demand_rows(items, use),
            "purchase_order": self._po_rows(items, policy, orders),
        }

    def _policy(self, items, kind, use) -> dict:
        """Supplier, lead time and reorder point per stocked item; some items are under-covered."""
        rng = self.rng
        mu, sd = use.mean(axis=1), use.std(axis=1)
        region = self.t["region"]
        supplier, lead = [], np.zeros(len(items), dtype=int)
        for i, k in enumerate(kind):
            if k == "finished":
                supplier.append(None)
                continue
            candidates = catalog.SUPPLIERS_BY_TYPE[k]
            local = [s for s in candidates if catalog.SUPPLIER_REGION[catalog.SUPPLIERS[s][1]] == region]
            pool = local if local and rng.random() < 0.7 else candidates
            s = pool[int(rng.integers(0, len(pool)))]
            supplier.append(s)
            s_region = catalog.SUPPLIER_REGION[catalog.SUPPLIERS[s][1]]
            far = 0 if s_region == region else (10 if {s_region, region} == {"ASIA", "SEA"} else 24)
            lead[i] = int(rng.integers(*catalog.BASE_LEAD_DAYS[k])) + far
        z = np.where(rng.random(len(items)) < 0.15, 0.3, rng.uniform(1.0, 2.0, len(items)))
        safety = z * sd * np.sqrt(lead)
        rop = mu * lead + safety
        cover = rng.uniform(10, 30, len(items))
        qty = np.maximum(mu * cover, 1.0)
        lot = 10.0 ** np.maximum(0, np.floor(np.log10(qty)) - 1)
        qty = np.ceil(qty / lot) * lot
        spare = kind == "spare_part"
        safety = np.where(spare, np.ceil(safety), np.round(safety, 1))
        rop = np.where(spare, np.maximum(1, np.ceil(rop)), np.round(rop, 1))
        qty = np.where(spare, np.maximum(2, np.ceil(mu * 90)), qty)
        fin = kind == "finished"
        safety, rop = np.where(fin, np.round(2 * mu), safety), np.where(fin, np.round(4 * mu), rop)
        start = np.where(fin, mu * rng.uniform(6, 12, len(items)), rop + qty * rng.uniform(0.2, 0.9, len(items)))
        return dict(
            supplier=supplier,
            lead=lead,
            lead_out=[None if f else float(x) for f, x in zip(fin, lead)],
            safety=safety,
            rop=rop,
            qty=qty,
            start=np.where(spare, np.ceil(start), start),
            cap=mu * rng.uniform(12, 25, len(items)),
        )

    def _stock(self, kind, use, good_p, policy):
        """Day by day: receipts, consumption (never below zero), reorders. Finished goods are
        stocked from output and shipped to demand; above their cap they move to the DCs."""
        rng, n = self.rng, self.n
        fin = kind == "finished"
        n_fin = int(fin.sum())
        buy = np.flatnonzero(~fin)
        profiles = [catalog.SUPPLIER_PROFILES[catalog.SUPPLIERS[s][2]] if s else None for s in policy["supplier"]]
        on_hand = policy["start"].astype(float).copy()
        on_order = np.zeros(len(kind))
        arrivals = np.zeros((len(kind), n + int(policy["lead"].max()) + 60))
        history = np.zeros((len(kind), n))
        orders = []
        rop, qty, lead = policy["rop"], policy["qty"], policy["lead"]
        for t in range(n):
            on_hand += arrivals[:, t]
            on_order -= arrivals[:, t]
            on_hand[:n_fin] += good_p[t]
            on_hand -= np.minimum(use[:, t], on_hand)
            on_hand[:n_fin] = np.minimum(on_hand[:n_fin], policy["cap"][:n_fin])
            for i in buy[on_hand[buy] + on_order[buy] <= rop[buy]]:
                prof = profiles[i]
                u = rng.random()
                late = (
                    1 + int(rng.poisson(prof["late_days"] - 1))
                    if u < prof["p_late"]
                    else -1
                    if u < prof["p_late"] + prof["p_early"]
                    else 0
                )
                cancelled = rng.random() < 0.01
                orders.append((i, t, lead[i], late, qty[i], cancelled))
                if not cancelled:
                    on_order[i] += qty[i]
                    arrivals[i, t + lead[i] + late] += qty[i]
            history[:, t] = on_hand
        return history, orders

    def _snapshot_rows(self, items, kind, on_hand, cut: int) -> pd.DataFrame:
        days = np.arange(min(cut, self.n - 1) + 1)
        if self.spreadsheet:
            days = days[self.cal.weekday[days] == COUNT_WEEKDAY]
        i, d = np.repeat(np.arange(len(items)), len(days)), np.tile(days, len(items))
        values = on_hand[i, d]
        return pd.DataFrame(
            {
                "plant_id": self.pid,
                "material_id": np.array(items)[i],
                "day": self.cal.dates(d),
                "on_hand": np.where(kind[i] == "spare_part", np.round(values), np.round(values, 1)),
            }
        )

    def _demand_rows(self, items, use) -> pd.DataFrame:
        i, d = np.nonzero(use > 0)  # days without demand or use have no row
        return pd.DataFrame(
            {
                "plant_id": self.pid,
                "material_id": np.array(items)[i],
                "day": self.cal.dates(d),
                "qty": np.round(use[i, d], 1),
            }
        )

    def _po_rows(self, items, policy, orders) -> pd.DataFrame:
        o = pd.DataFrame(orders, columns=["item", "t", "lead", "late", "qty", "cancelled"])
        arrival = (o["t"] + o["lead"] + o["late"]).to_numpy()
        received = ~o["cancelled"].to_numpy() & (arrival < self.n)
        return pd.DataFrame(
            {
                "po_id": [f"{self.pid}-PO-{k + 1:06d}" for k in range(len(o))],
                "plant_id": self.pid,
                "material_id": np.array(items)[o["item"]],
                "supplier_id": np.array(policy["supplier"])[o["item"]],
                "qty": o["qty"].astype(float).to_numpy(),
                "ordered_day": self.cal.dates(o["t"]),
                "promised_day": self.cal.dates(o["t"] + o["lead"]),
                "received_day": np.where(received, self.cal.dates(arrival), None),
                "status": np.where(o["cancelled"], "cancelled", np.where(received, "received", "open")),
            }
        )

    # --- schedule -----------------------------------------------------------------------

    def _orders(self, events: pd.DataFrame) -> pd.DataFrame:
        """Back-to-back production orders per line over the shift calendar, window + horizon.

        Orders are cut in busy seconds and mapped back to UTC, so they start and end inside
        shifts. An order finishes late by about the downtime its line had while it ran.
        """
        rng, cal, lines = self.rng, self.cal, self.layout.lines
        opens = cal.midnight[self.work_all] + cal.open_s[self.work_all]
        shift = cal.busy_s[self.work_all]
        cum_end = np.cumsum(shift)
        total = cum_end[-1]

        def at(b):
            """UTC instant after `b` busy seconds of the calendar."""
            i = np.minimum(np.searchsorted(cum_end, b, side="left"), len(cum_end) - 1)
            return opens[i] + b - (cum_end[i] - shift[i])

        long_shifts = shift.mean() > 20 * HOUR
        allowance = 0.06  # share of an order's time the plan already allows for stops
        noise = catalog.MATURITY[self.t["maturity"]]["order_noise_h"] * HOUR
        ev_line, ev_start, ev_dur = (events[c].to_numpy() for c in ("line", "start", "dur"))
        frames = []
        for li, line in enumerate(self.line_list):
            lo, hi = (8, 56) if long_shifts else (4, 20)
            lengths = rng.uniform(lo, hi, int(total / (lo * HOUR)) + 2) * HOUR
            bounds = np.concatenate([[0.0], np.cumsum(lengths)])
            bounds = bounds[bounds <= total]
            b0, b1 = bounds[:-1], bounds[1:]
            starts = ev_start[ev_line == li]  # sorted: events are in start order
            down = np.concatenate([[0.0], np.cumsum(ev_dur[ev_line == li])])
            p_start, p_end = at(b0), at(b1)
            lost = down[np.searchsorted(starts, p_end)] - down[np.searchsorted(starts, p_start)]
            length = b1 - b0
            late = (lost - allowance * length) * rng.uniform(0.7, 1.2, len(b0)) + rng.normal(0, noise, len(b0))
            delay = np.maximum(late, -0.3 * length)
            actual = at(np.minimum(b1 + delay, total))
            slack = rng.choice([0, 2, 4, 8, 16], p=[0.3, 0.25, 0.2, 0.15, 0.1], size=len(b0)) * HOUR
            product = rng.choice(len(self.layout.products), p=self.layout.line_mix[li], size=len(b0))
            qty = np.maximum(np.round(length / line["ideal_cycle_s"] * 0.85 / 10) * 10, 10)
            frames.append(
                {
                    "line": li,
                    "n": np.arange(len(b0)),
                    "product": product,
                    "qty": qty,
                    "p_start": p_start,
                    "p_end": p_end,
                    "actual": actual,
                    "due": p_end + slack,
                    "made": qty * rng.uniform(0.93, 1.02, len(b0)),
                    "u": rng.random(len(b0)),
                    "no_due": self.spreadsheet & (rng.random(len(b0)) < 0.02),
                }
            )
        o = _stack(frames)
        o = o[o["p_start"] < self.now + HORIZON_DAYS * DAY]
        future = o["p_start"] >= self.now
        done = ~future & (o["actual"] <= self.now)
        cancelled = done & (o["u"] < 0.007)
        running = ~future & ~done
        elapsed = np.clip((self.now - o["p_start"]) / (o["actual"] - o["p_start"]), 0, 1)
        status = np.select(
            [future & (o["p_start"] < self.now + 3 * DAY), future, cancelled, done],
            ["released", "planned", "cancelled", "completed"],
            "released",
        )
        made = np.where(done & ~cancelled, np.round(o["made"]), np.where(running, np.round(o["made"] * elapsed), 0.0))
        due = o["due"].where(~o["no_due"])
        return pd.DataFrame(
            {
                "order_id": (
                    lines["line_id"].to_numpy()[o["line"]] + "-MO-" + (o["n"] + 1).astype(str).str.zfill(5)
                ).to_numpy(),
                "plant_id": self.pid,
                "line_id": lines["line_id"].to_numpy()[o["line"]],
                "product_id": np.array(self.layout.products)[o["product"]],
                "qty": o["qty"].to_numpy(),
                "due_utc": _utc(due),
                "due_day": np.where(due.isna(), None, cal.dates(cal.day_of(due.fillna(0)))),
                "planned_start_utc": _utc(o["p_start"]),
                "planned_end_utc": _utc(o["p_end"]),
                "actual_end_utc": _utc(o["actual"].where(done & ~cancelled)),
                "produced_qty": made,
                "status": status,
            }
        )

    def _plan_revisions(self, orders: pd.DataFrame) -> pd.DataFrame:
        """Plan changes the planning system recorded before each revised order's start (issue 14).

        A plant's planning nervousness depends on its data maturity (spreadsheet plants replan
        most) and on the plant itself; a revision changes the quantity, the dates or both, up
        to 10 days before the planned start (so some fall inside a 7-day frozen horizon). The
        orders keep their final plan: a revision's new values are the order's. Drawn from an RNG
        of its own, so the other tables stay as they were.
        """
        rng = np.random.default_rng(np.random.SeedSequence(self.world.seed, spawn_key=(14, self.index)))
        base = {"iot": 0.05, "mes": 0.10, "spreadsheet": 0.20}[self.t["maturity"]] * rng.uniform(0.5, 1.5)
        start = pd.to_datetime(orders["planned_start_utc"]).to_numpy("datetime64[s]").astype("int64").astype(float)
        revised = start - rng.uniform(0.1, 10.0, len(orders)) * DAY
        pick = (rng.random(len(orders)) < base) & (revised < self.now) & (orders["status"] != "cancelled").to_numpy()
        o, revised, start = orders[pick], revised[pick], start[pick]
        kind = rng.choice(["qty", "dates", "both"], p=[0.6, 0.25, 0.15], size=len(o))
        factor = np.where(kind != "dates", rng.choice([0.7, 0.8, 0.9, 1.1, 1.2, 1.3], size=len(o)), 1.0)
        shift = np.where(
            kind != "qty", rng.choice([-2, -1, 1, 2], size=len(o)) * rng.choice([0.25, 1.0], size=len(o)) * DAY, 0.0
        )
        due = pd.to_datetime(o["due_utc"]).to_numpy("datetime64[s]").astype("int64").astype(float)
        due[pd.isna(o["due_utc"]).to_numpy()] = np.nan
        return pd.DataFrame(
            {
                "plant_id": self.pid,
                "order_id": o["order_id"].to_numpy(),
                "line_id": o["line_id"].to_numpy(),
                "revised_utc": _utc(revised),
                "old_qty": np.maximum(np.round(o["qty"].to_numpy() / factor / 10) * 10, 10),
                "new_qty": o["qty"].to_numpy(),
                "old_planned_start_utc": _utc(start - shift),
                "new_planned_start_utc": _utc(start),
                "old_due_utc": _utc(due - shift),
                "new_due_utc": _utc(due),
            }
        )

    # --- feeds ----------------------------------------------------------------------------

    def _feeds(self):
        """Last day each feed delivered, and its feed_status rows.

        Up-to-date feeds were last received just before the UTC midnight that ends end_day,
        so with the default end_day (yesterday) none was received in the future and all are
        within a daily cadence for the rest of that UTC day. Spreadsheet plants upload 1-3
        days late; a template's current outage stopped some feeds 4-8 days ago.
        """
        rng, n = self.rng, self.n
        cadence = catalog.FEED_CADENCE_H[self.t["maturity"]]
        cut = {source: n - 1 for source in cadence}
        if self.spreadsheet:
            lag = int(rng.integers(1, 4))
            cut["production"] = cut["downtime"] = n - 1 - lag
            counts = np.flatnonzero(self.cal.weekday[:n] == COUNT_WEEKDAY)
            cut["inventory"] = int(counts[-1]) if len(counts) else -1
        if self.first_of_template:
            for source in self.t["outage"]:
                cut[source] = n - 1 - int(rng.integers(4, 9))
        latest = self.cal.utc_midnight[n] - rng.uniform(0.1, 1.0) * HOUR
        upload_h = (2.0, 20.0) if self.spreadsheet else (0.2, 3.0)
        received = {
            s: latest if c == n - 1 else min(latest, self.cal.midnight[c + 1] + rng.uniform(*upload_h) * HOUR)
            for s, c in cut.items()
        }
        feeds = pd.DataFrame(
            {
                "plant_id": self.pid,
                "source": list(cadence),
                "last_received_utc": _utc(np.round([received[s] for s in cadence])),
                "expected_cadence_h": [float(cadence[s]) for s in cadence],
            }
        )
        return cut, feeds

    def _gap_days(self) -> set:
        """A few historical days whose production (and sensor) data never arrived."""
        gaps = set()
        if self.n > 90 and self.rng.random() < 0.5:
            for _ in range(int(self.rng.integers(1, 3))):
                first = int(self.rng.integers(0, self.n - 60))
                gaps.update(range(first, first + int(self.rng.integers(1, 4))))
        return gaps


def _stack(parts: list[dict], dtypes: dict | None = None) -> pd.DataFrame:
    """One frame from dicts of equal-length arrays (scalars broadcast): one pandas
    construction instead of one per part."""
    columns = list(dtypes or parts[0])
    out = {}
    for c in columns:
        pieces = []
        for p in parts:
            n = next(len(v) for v in p.values() if np.ndim(v))
            pieces.append(np.broadcast_to(np.asarray(p[c], dtype=(dtypes or {}).get(c)), (n,)))
        out[c] = np.concatenate(pieces) if pieces else np.empty(0, dtype=dtypes[c])
    return pd.DataFrame(out)


def _renewals(rng, eta: float, shape: float, limit: int) -> np.ndarray:
    """Operating days of failures of a Weibull renewal process that is part-way through its
    first interval at day 0; at least a day apart."""
    t, out = eta * rng.weibull(shape) * rng.random(), []
    while t < limit:
        out.append(int(t))
        t += max(1.0, eta * rng.weibull(shape))
    return np.unique(np.array(out, dtype=int))


def _utc(seconds) -> np.ndarray:
    """Epoch seconds (NaN for none) as datetime64[s] in UTC (NaT for none); `load` makes
    them timezone-aware datetimes."""
    s = np.asarray(seconds, dtype=float)
    out = np.round(np.nan_to_num(s)).astype("int64").astype("datetime64[s]")
    out[np.isnan(s)] = np.datetime64("NaT")
    return out


def _wo_code(style: str, seq: int, created: datetime) -> str:
    """The work-order number as the plant's CMMS, spreadsheet or paper form shows it."""
    return {
        "sap": f"{4000000 + seq + 1}",
        "maximo": f"WO{100000 + seq + 1}",
        "fiix": f"#{seq + 1}",
        "excel": f"{created.year}-{seq + 1:05d}",
        "paper": f"PF/{created:%y}/{seq + 1:04d}",
        "breakdown": f"BD-{seq + 1:05d}",
    }[style]
