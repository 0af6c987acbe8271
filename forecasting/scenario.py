"""Scenario engine: what the next weeks of a plant look like under a set of levers.

A daily Monte Carlo simulation per plant (docs/scenarios.md tells the whole model), vectorized
over the paths with numpy and reproducible by its seed. Every day of every path:

1. demand is drawn around the stored demand forecast (its 80 % band as +-1.28 sd), scaled by
   the demand lever;
2. each line's hours: scheduled hours x its availability of the day (a failure-free day of its
   recent record, drawn from the path's own resample of that record), minus line outages and
   maintenance windows (levers), minus failure repairs. A line fails with its long-run daily
   failure rate, or, while an asset on it carries an elevated failure-risk score and has not
   been repaired or maintained since, with that score's daily hazard; a failure costs an
   exponential repair time of the line's mean repair hours;
3. the plan is the forecast demand plus what brings finished stock back to its safety stock;
   production is the plan, capped by regular capacity plus allowed overtime and by the
   materials on hand (each used per unit made, from history);
4. demand is served from finished stock plus production; what cannot be served is lost;
5. materials arrive (open purchase orders on their promised day, reorders after the lead time),
   each delayed by a draw from its supplier's delivery record plus the supplier-delay lever;
   a material whose position falls to its reorder point is reordered.

Randomness is drawn up front, independent of the levers, so a scenario and its baseline see
the same demand, availability, failures and deliveries (common random numbers): differences come from the
levers alone, and zero levers reproduce the baseline exactly.

`PlantBasis` holds a plant's inputs (built from the warehouse by forecasting.scenario_inputs),
`Levers` the what-if, `simulate` runs one plant, `run` a scenario over plants (with its
baseline), `summarize` turns summed components into KPIs with percentile bands.
Importable without Streamlit.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from data_access import kpis

PATHS = 500
SEED = 20261126
HORIZON_DAYS = 91  # 13 weeks
BANDS = (10, 50, 90)
OVERTIME_PREMIUM = 1.5  # overtime hours cost 1.5x the plant policy's labour rate
CREW_PER_LINE = 4  # people working a line hour (overtime and maintenance windows)
HOLDING_RATE_PER_YEAR = 0.25  # carrying cost of inventory value per year
DEMAND_Z = 1.2816  # an 80 % band spans +-1.2816 standard deviations
MONEY = kpis.REFERENCE_CURRENCY  # material.unit_cost and labour rates are in the reference currency (decision 14)

LIMITS = {
    "demand_change_pct": (-90.0, 200.0),
    "capacity_change_pct": (-90.0, 100.0),
    "overtime_hours_per_day": (0.0, 12.0),
    "safety_stock_multiplier": (0.0, 5.0),
    "supplier_delay_days": (0.0, 90.0),
    "outage_days": (1, 91),
    "window_hours": (0.5, 72.0),
}
"""Accepted range of each lever (inclusive)."""

DAILY = (
    "demand",
    "served",
    "produced",
    "planned",
    "overtime_hours",
    "inventory_value",
    "unmet",
    "lines_scheduled",
    "lines_on_time",
)
"""Components recorded per path and day."""


class ScenarioError(ValueError):
    """A scenario cannot run as asked; the message says why, for the user."""


# --- levers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineOutage:
    line_id: str
    start: date
    days: int


@dataclass(frozen=True)
class MaintenanceWindow:
    """A planned maintenance of a line: `hours` lost on `day`; it renews the line's assets."""

    line_id: str
    day: date
    hours: float


@dataclass(frozen=True)
class Levers:
    """A what-if. The defaults are the baseline (no change)."""

    demand_change_pct: float = 0.0
    capacity_change_pct: float = 0.0
    overtime_hours_per_day: float = 0.0  # allowed per line-day, within 24 h minus scheduled hours
    safety_stock_multiplier: float = 1.0  # finished goods and materials
    supplier_delay_days: Mapping[str, float] = field(default_factory=dict)  # supplier_id -> extra days
    line_outages: tuple[LineOutage, ...] = ()
    maintenance_windows: tuple[MaintenanceWindow, ...] = ()

    def to_dict(self) -> dict:
        """JSON-ready (dates as ISO text), for saving and export."""
        out = asdict(self)
        out["supplier_delay_days"] = dict(self.supplier_delay_days)
        for key in ("line_outages", "maintenance_windows"):
            out[key] = [
                {k: (v.isoformat() if isinstance(v, date) else v) for k, v in item.items()} for item in out[key]
            ]
        return out

    @classmethod
    def from_dict(cls, raw: Mapping) -> "Levers":
        """The levers of `to_dict` (or a user's form); ScenarioError on a malformed value."""
        try:
            return cls(
                demand_change_pct=float(raw.get("demand_change_pct", 0.0)),
                capacity_change_pct=float(raw.get("capacity_change_pct", 0.0)),
                overtime_hours_per_day=float(raw.get("overtime_hours_per_day", 0.0)),
                safety_stock_multiplier=float(raw.get("safety_stock_multiplier", 1.0)),
                supplier_delay_days={str(k): float(v) for k, v in (raw.get("supplier_delay_days") or {}).items()},
                line_outages=tuple(
                    LineOutage(str(o["line_id"]), _as_day(o["start"]), int(o["days"]))
                    for o in raw.get("line_outages") or ()
                ),
                maintenance_windows=tuple(
                    MaintenanceWindow(str(w["line_id"]), _as_day(w["day"]), float(w["hours"]))
                    for w in raw.get("maintenance_windows") or ()
                ),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ScenarioError(f"A lever is malformed ({type(exc).__name__}: {exc}).") from exc

    def is_baseline(self) -> bool:
        return self == Levers()

    def changes(self) -> dict:
        """The levers that differ from the baseline, as in `to_dict`."""
        base = Levers().to_dict()
        return {k: v for k, v in self.to_dict().items() if v != base[k]}

    def actions(self) -> dict:
        """The changed levers a plant can act on (ACTION_LEVERS): what an approved plan requests."""
        return {k: v for k, v in self.changes().items() if k in ACTION_LEVERS}

    def assumptions(self) -> dict:
        """The changed levers that are what-ifs about the world (demand, suppliers, outages)."""
        return {k: v for k, v in self.changes().items() if k not in ACTION_LEVERS}

    def for_plant(self, lines, suppliers) -> "Levers":
        """The levers that touch one plant: the network-wide ones, delays of its suppliers, outages
        and maintenance windows of its lines (what its approvers are asked to decide)."""
        lines, suppliers = set(lines), set(suppliers)
        return Levers(
            demand_change_pct=self.demand_change_pct,
            capacity_change_pct=self.capacity_change_pct,
            overtime_hours_per_day=self.overtime_hours_per_day,
            safety_stock_multiplier=self.safety_stock_multiplier,
            supplier_delay_days={s: d for s, d in self.supplier_delay_days.items() if s in suppliers and d},
            line_outages=tuple(o for o in self.line_outages if o.line_id in lines),
            maintenance_windows=tuple(w for w in self.maintenance_windows if w.line_id in lines),
        )

    def describe(self) -> str:
        """One line for titles and tables."""
        parts = []
        if self.demand_change_pct:
            parts.append(f"demand {self.demand_change_pct:+g} %")
        if self.capacity_change_pct:
            parts.append(f"capacity {self.capacity_change_pct:+g} %")
        if self.overtime_hours_per_day:
            parts.append(f"overtime up to {self.overtime_hours_per_day:g} h/line-day")
        if self.safety_stock_multiplier != 1.0:
            parts.append(f"safety stock x{self.safety_stock_multiplier:g}")
        parts += [f"{s} {d:+g} d late" for s, d in self.supplier_delay_days.items() if d]
        parts += [f"{o.line_id} down {o.days} d from {o.start}" for o in self.line_outages]
        parts += [f"{w.line_id} maintained {w.day} ({w.hours:g} h)" for w in self.maintenance_windows]
        return "; ".join(parts) or "baseline (no change)"


ACTION_LEVERS = ("capacity_change_pct", "overtime_hours_per_day", "safety_stock_multiplier", "maintenance_windows")
"""Levers that are decisions of the plant; the others (demand, supplier delays, line outages) are assumptions."""


def _as_day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlantBasis:
    """A plant's simulation inputs over days start .. start + horizon - 1 (H days, L lines,
    M materials). Quantities of finished goods are in the unit of the demand forecast."""

    plant_id: str
    start: date
    demand: np.ndarray  # (H,) forecast units per day
    demand_sd: np.ndarray  # (H,)
    lines: tuple[str, ...]
    line_hours: np.ndarray  # (L, H) scheduled hours
    line_availability: np.ndarray  # (L,) share of scheduled hours run on days without failures
    line_rate: np.ndarray  # (L,) finished units per run hour
    failure_rate: np.ndarray  # (L,) failures per line-day, long run
    elevated_rate: np.ndarray  # (L,) daily hazard from current risk scores (<= failure_rate: none)
    repair_hours: np.ndarray  # (L,) mean hours lost per failure
    fg_on_hand: float
    fg_safety_stock: float
    fg_unit_value: float
    materials: tuple[str, ...] = ()
    suppliers: tuple[str | None, ...] = ()  # (M,)
    usage_per_unit: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (M,)
    mat_on_hand: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mat_reorder_point: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mat_order_qty: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mat_lead_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    mat_unit_cost: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lateness: tuple[np.ndarray, ...] = ()  # (M,) each its supplier's record of days late (non-empty)
    arrivals: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (M, H) open orders by promised day
    labour_rate: float = 85.0
    demand_per_output: float = 1.0  # the plant's demand / good output (56 days): line output in demand units
    mat_binding: np.ndarray | None = None  # (M,) whether a material at zero stops production (None: every one)
    fg_kept: np.ndarray = field(default_factory=lambda: np.ones(1))  # the finished stock the plant kept on its
    # recent count days / their median: each path keeps its own level (a quarter sits anywhere in that range)
    run_ratios: tuple[np.ndarray, ...] = ()  # (L,) each line's run / scheduled hours on its recent days without
    # failures, resampled day by day (minor stops, short shifts); empty: every day at line_availability

    @property
    def horizon(self) -> int:
        return len(self.demand)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(self.horizon)]


def validate(levers: Levers, bases: Mapping[str, PlantBasis]) -> None:
    """ScenarioError naming the first lever out of range or not about these plants."""
    start = min(b.start for b in bases.values())
    end = max(b.start + timedelta(days=b.horizon - 1) for b in bases.values())
    check(
        levers,
        {line for b in bases.values() for line in b.lines},
        {s for b in bases.values() for s in b.suppliers if s},
        (start, end),
    )


def check(levers: Levers, lines, suppliers, window: tuple[date, date] | None = None) -> None:
    """ScenarioError naming the first lever out of range, about a line or supplier not in the
    given ones, or (with `window`) dated outside it. Used before a run and before a save."""
    for name in ("demand_change_pct", "capacity_change_pct", "overtime_hours_per_day", "safety_stock_multiplier"):
        _check_range(name.replace("_", " "), getattr(levers, name), LIMITS[name])
    for supplier, days in levers.supplier_delay_days.items():
        if supplier not in suppliers:
            raise ScenarioError(f"Supplier {supplier} delivers to none of the chosen plants.")
        _check_range(f"delay of {supplier} (days)", days, LIMITS["supplier_delay_days"])
    for item in (*levers.line_outages, *levers.maintenance_windows):
        if item.line_id not in lines:
            raise ScenarioError(f"Line {item.line_id} is not a line of the chosen plants.")
        day = item.start if isinstance(item, LineOutage) else item.day
        if window and not window[0] <= day <= window[1]:
            raise ScenarioError(f"{item.line_id}: {day} is outside the horizon {window[0]} to {window[1]}.")
        if isinstance(item, LineOutage):
            _check_range(f"outage of {item.line_id} (days)", item.days, LIMITS["outage_days"])
            if int(item.days) != item.days:
                raise ScenarioError(f"The outage of {item.line_id} must last whole days, not {item.days!r}.")
        else:
            _check_range(f"maintenance window of {item.line_id} (hours)", item.hours, LIMITS["window_hours"])


def _check_range(name, value, bounds) -> None:
    low, high = bounds
    if not (isinstance(value, (int, float, np.integer, np.floating)) and np.isfinite(value) and low <= value <= high):
        raise ScenarioError(f"The {name} must be between {low:g} and {high:g}, not {value!r}.")


# --- simulation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draws:
    """A plant's random numbers, drawn before the levers are known (common random numbers)."""

    demand: np.ndarray  # (P, H) standard normal
    failure: np.ndarray  # (P, H, L) uniform
    repair: np.ndarray  # (P, H, L) standard exponential
    lateness: np.ndarray  # (P, 2H, M) uniform: picks a delivery from the supplier's record; open orders
    # by promised day (0 .. H - 1), a material's k-th reorder at H + k whatever day it is placed, so
    # that a lever moving a reorder by a day moves its delivery, not its lateness
    availability: np.ndarray | None = None  # (P, H, L) uniform: picks a day of the path's record
    record: np.ndarray | None = None  # (P, R, L) uniform: each path's resample of a line's run_ratios (a
    # bootstrap: 91 days tell a line's variation only so well, and each path carries that doubt)
    kept: np.ndarray | None = None  # (P,) uniform: picks the path's finished-stock level from fg_kept

    @classmethod
    def for_basis(cls, basis: PlantBasis, paths: int, seed: int) -> "Draws":
        rng = np.random.default_rng([seed, _stable_hash(basis.plant_id)])
        h, lines, mats = basis.horizon, len(basis.lines), len(basis.materials)
        longest = max((len(r) for r in basis.run_ratios), default=1)
        return cls(
            rng.standard_normal((paths, h)),
            rng.random((paths, h, lines)),
            rng.standard_exponential((paths, h, lines)),
            rng.random((paths, 2 * h, mats)),
            rng.random((paths, h, lines)),
            rng.random((paths, longest, lines)),
            rng.random(paths),
        )

    def path(self, i: int) -> "Draws":
        return Draws(
            *(
                None if a is None else a[i : i + 1]
                for a in (
                    self.demand,
                    self.failure,
                    self.repair,
                    self.lateness,
                    self.availability,
                    self.record,
                    self.kept,
                )
            )
        )


def _stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def simulate(
    basis: PlantBasis, levers: Levers = Levers(), paths: int = PATHS, seed: int = SEED, draws: Draws | None = None
) -> dict[str, np.ndarray]:
    """One plant under `levers`: each component of DAILY as a (paths, H) array (see the module
    docstring). Levers about other plants' lines or suppliers are ignored here."""
    draws = draws or Draws.for_basis(basis, paths, seed)
    p, h = draws.demand.shape
    n_mats = len(basis.materials)
    demand_scale = 1.0 + levers.demand_change_pct / 100.0
    rate = basis.line_rate * (1.0 + levers.capacity_change_pct / 100.0)
    hours, down = _hours_after_levers(basis, levers)  # (L, H) scheduled hours less outages and windows
    usual_run = hours.T[None, :, :] * _availability(basis, draws.availability, draws.record)  # (P or 1, H, L)
    overtime_room = np.minimum(levers.overtime_hours_per_day, np.clip(24.0 - basis.line_hours, 0, None))
    overtime_room = np.where(down, 0.0, overtime_room)  # a line down for an outage gets no overtime
    renewed = _renewal_days(basis, levers)  # (L,) day index of the first maintenance window (h: none)
    ssm = levers.safety_stock_multiplier
    fg_target = basis.fg_safety_stock * ssm * _pick(basis.fg_kept, draws.kept)  # (P,) or scalar
    reorder_point = basis.mat_reorder_point * ssm
    delay = np.array([levers.supplier_delay_days.get(s, 0.0) if s else 0.0 for s in basis.suppliers])
    late_draw = _lateness_days(basis, draws.lateness)  # (P, 2H, M)

    fg = np.full(p, float(basis.fg_on_hand))
    stock = np.tile(basis.mat_on_hand.astype(float), (p, 1))
    pipeline = np.zeros((p, n_mats, h + 1))  # arrivals by day; [:, :, h] collects those beyond the horizon
    for m in range(n_mats):  # open orders: promised day + a draw from the supplier's record + lever
        for day in np.nonzero(basis.arrivals[m])[0]:
            arrive = np.clip(day + np.rint(late_draw[:, day, m] + delay[m]).astype(int), 0, h)
            np.add.at(pipeline, (np.arange(p), m, arrive), basis.arrivals[m, day])
    on_order = pipeline.sum(axis=2)
    reorders = np.zeros((p, n_mats), dtype=int)  # reorders placed so far per path and material
    degraded = np.tile(basis.elevated_rate > basis.failure_rate, (p, 1))  # (P, L)
    binding = basis.usage_per_unit > 0
    if basis.mat_binding is not None:
        binding &= np.asarray(basis.mat_binding, dtype=bool)
    # schedule adherence: a scheduled line-day is one order, on time when the line ran its usual
    # hours less at most the orders' tolerance and materials did not hold production back
    scheduled = basis.line_hours > 0  # (L, H)
    usual_scheduled = basis.line_hours * basis.line_availability[:, None]
    late_hours = kpis.SCHEDULE_TOLERANCE_HOURS
    out = {name: np.zeros((p, h)) for name in DAILY}

    for t in range(h):
        arriving = pipeline[:, :, t]
        stock += arriving
        on_order -= arriving
        demand = np.maximum(0.0, (basis.demand[t] + basis.demand_sd[t] * draws.demand[:, t]) * demand_scale)

        maintained = renewed == t
        degraded[:, maintained] = False
        hazard = np.where(degraded, basis.elevated_rate, basis.failure_rate)
        failed = draws.failure[:, t, :] < hazard
        degraded &= ~failed  # a failure's repair renews the asset too
        lost = np.where(failed, draws.repair[:, t, :] * basis.repair_hours, 0.0)
        run = np.clip(usual_run[:, t] - lost, 0.0, None)  # (P, L)
        regular = run @ rate
        extra = overtime_room[:, t] @ rate

        planned = max(0.0, basis.demand[t] * demand_scale) + np.clip(fg_target - fg, 0.0, None)
        can_make = np.full(p, np.inf)
        used = binding
        if used.any():
            can_make = np.min(stock[:, used] / basis.usage_per_unit[used], axis=1)
        produced = np.minimum(np.minimum(planned, regular + extra), can_make)
        short = can_make < np.minimum(planned, regular + extra) * (1 - 1e-9)  # materials held production back
        on_time = scheduled[:, t] & (run >= usual_scheduled[:, t] - late_hours) & ~short[:, None]
        overtime = np.where(extra > 0, np.clip(produced - regular, 0.0, None) / np.where(extra > 0, extra, 1.0), 0.0)
        stock = np.clip(stock - produced[:, None] * basis.usage_per_unit, 0.0, None)

        available = fg + produced
        served = np.minimum(demand, available)
        fg = available - served

        position = stock + on_order
        rows, mats = np.nonzero(position <= reorder_point)
        if len(rows):  # each (path, material) orders at most once a day: plain fancy indexing adds
            qty = np.maximum(basis.mat_order_qty[mats], reorder_point[mats] - position[rows, mats])
            wait = np.rint(
                basis.mat_lead_days[mats] + late_draw[rows, h + reorders[rows, mats], mats] + delay[mats]
            ).astype(int)
            reorders[rows, mats] += 1
            pipeline[rows, mats, np.clip(t + wait, t + 1, h)] += qty
            on_order[rows, mats] += qty

        out["demand"][:, t] = demand
        out["served"][:, t] = served
        out["unmet"][:, t] = demand - served
        out["produced"][:, t] = produced
        out["planned"][:, t] = planned
        out["overtime_hours"][:, t] = overtime * overtime_room[:, t].sum()
        out["inventory_value"][:, t] = fg * basis.fg_unit_value + stock @ basis.mat_unit_cost
        out["lines_scheduled"][:, t] = scheduled[:, t].sum()
        out["lines_on_time"][:, t] = on_time.sum(axis=1)
    return out


def _hours_after_levers(basis: PlantBasis, levers: Levers) -> tuple[np.ndarray, np.ndarray]:
    """(scheduled hours less outages and maintenance windows, outage days), both (L, H). A window
    runs round the clock from its day on: each day it takes up to 24 h, of which the line loses
    the scheduled ones."""
    hours = basis.line_hours.astype(float).copy()
    down = np.zeros(hours.shape, dtype=bool)
    index = {line: i for i, line in enumerate(basis.lines)}
    for outage in levers.line_outages:
        if outage.line_id in index:
            first = (outage.start - basis.start).days
            down[index[outage.line_id], max(first, 0) : max(first + outage.days, 0)] = True
    hours[down] = 0.0
    for window in levers.maintenance_windows:
        if window.line_id not in index:
            continue
        line, t, left = index[window.line_id], (window.day - basis.start).days, float(window.hours)
        while left > 0 and 0 <= t < basis.horizon:
            clock = min(left, 24.0)
            hours[line, t] = max(0.0, hours[line, t] - clock)
            left, t = left - clock, t + 1
    return hours, down


def _renewal_days(basis: PlantBasis, levers: Levers) -> np.ndarray:
    days = np.full(len(basis.lines), basis.horizon)
    index = {line: i for i, line in enumerate(basis.lines)}
    for window in levers.maintenance_windows:
        if window.line_id in index:
            i = index[window.line_id]
            days[i] = min(days[i], (window.day - basis.start).days)
    return days


def _availability(basis: PlantBasis, uniform: np.ndarray | None, record: np.ndarray | None) -> np.ndarray:
    """Each path's share of scheduled hours run per day and line before failures, (P, H, L): a day
    picked by `uniform` from the path's resample (by `record`) of the line's failure-free days;
    (1, H, L) of its availability without a record or draws."""
    if uniform is None or not len(basis.run_ratios):
        return np.broadcast_to(basis.line_availability, (1, basis.horizon, len(basis.lines)))
    out = np.empty(uniform.shape)
    for line, ratios in enumerate(basis.run_ratios):
        ratios = np.sort(np.asarray(ratios, dtype=float)) if len(ratios) else basis.line_availability[line : line + 1]
        n = len(ratios)
        own = (
            ratios[np.minimum((record[:, :n, line] * n).astype(int), n - 1)]
            if record is not None
            else np.broadcast_to(ratios, (len(uniform), n))
        )
        out[:, :, line] = np.take_along_axis(own, np.minimum((uniform[:, :, line] * n).astype(int), n - 1), axis=1)
    return out


def _pick(record: np.ndarray, uniform: np.ndarray | None) -> np.ndarray | float:
    """A value of `record` per path picked by `uniform`; its median without draws."""
    record = np.sort(np.asarray(record, dtype=float)) if len(record) else np.ones(1)
    if uniform is None:
        return float(np.median(record))
    return record[np.minimum((uniform * len(record)).astype(int), len(record) - 1)]


def _lateness_days(basis: PlantBasis, uniform: np.ndarray) -> np.ndarray:
    out = np.zeros(uniform.shape)
    for m, record in enumerate(basis.lateness):
        record = np.sort(np.asarray(record, dtype=float)) if len(record) else np.zeros(1)
        out[:, :, m] = record[np.minimum((uniform[:, :, m] * len(record)).astype(int), len(record) - 1)]
    return np.clip(out, 0.0, None)  # an early delivery is booked on its promised day


# --- results ---------------------------------------------------------------------------------------


def costs(
    daily: Mapping[str, np.ndarray], basis_labour_rate: float, fg_unit_value: float, window_hours: float = 0.0
) -> dict[str, np.ndarray]:
    """Estimated costs per path (docs/scenarios.md): overtime, inventory holding and the crew
    hours of maintenance windows (what the plan spends), and lost sales at finished-goods value."""
    return {
        "overtime": daily["overtime_hours"].sum(axis=1) * CREW_PER_LINE * basis_labour_rate * OVERTIME_PREMIUM,
        "holding": daily["inventory_value"].sum(axis=1) * HOLDING_RATE_PER_YEAR / 365.0,
        "windows": np.full(len(daily["unmet"]), window_hours * CREW_PER_LINE * basis_labour_rate),
        "lost_sales": daily["unmet"].sum(axis=1) * fg_unit_value,
    }


def components(daily: Mapping[str, np.ndarray], cost: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The per-path sums the KPIs are computed from (summed across plants for a network)."""
    spend = cost["overtime"] + cost["holding"] + cost["windows"]
    return {
        "demand": daily["demand"].sum(axis=1),
        "served": daily["served"].sum(axis=1),
        "stockout_days": (daily["unmet"] > 1e-9).sum(axis=1).astype(float),
        "line_days_scheduled": daily["lines_scheduled"].sum(axis=1),
        "line_days_on_time": daily["lines_on_time"].sum(axis=1),
        "overtime_hours": daily["overtime_hours"].sum(axis=1),
        "inventory_value": daily["inventory_value"].mean(axis=1),
        "plan_spend": spend,
        "cost": spend + cost["lost_sales"],
    }


METRICS = {
    "fill_rate": ("Fill rate", "%", "demand served from stock and production / demand", True),
    "stockout_days": ("Stockout days", "days", "days (plant-days for a network) with demand not served in full", False),
    "schedule_adherence": (
        "Schedule adherence (line-days)",
        "%",
        "scheduled line-days that ran their usual hours "
        f"less at most {kpis.SCHEDULE_TOLERANCE_HOURS:g} h (the orders' tolerance) with the "
        "materials to run / scheduled line-days (a line-day counts as one order)",
        True,
    ),
    "overtime_hours": ("Overtime", "line-h", "overtime line-hours used over the horizon", False),
    "inventory_value": ("Inventory value", MONEY, "average value of finished goods and materials on hand", False),
    "plan_spend": (
        "Plan spend",
        MONEY,
        "overtime + inventory holding + maintenance windows: what the plan "
        "itself costs (approvals are routed on its change)",
        False,
    ),
    "cost": ("Estimated cost", MONEY, "plan spend + lost sales at finished-goods unit cost", False),
}
"""metric -> (label, unit, definition, higher_is_better): what a scenario reports, per plant and network."""
PERCENT_METRICS = tuple(m for m, spec in METRICS.items() if spec[1] == "%")


def path_metrics(parts: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The KPIs of each path from its components (sum first, divide last)."""
    return {
        "fill_rate": kpis.fill_rate(parts["served"], parts["demand"]),
        "stockout_days": parts["stockout_days"],
        "schedule_adherence": kpis.schedule_adherence(parts["line_days_on_time"], parts["line_days_scheduled"]),
        "overtime_hours": parts["overtime_hours"],
        "inventory_value": parts["inventory_value"],
        "plan_spend": parts["plan_spend"],
        "cost": parts["cost"],
    }


def summarize(parts: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """metric -> {p10, p50, p90, mean} over the paths."""
    out = {}
    for metric, values in path_metrics(parts).items():
        values = np.asarray(values, dtype=float)
        values = values[np.isfinite(values)]
        if not len(values):
            out[metric] = {f"p{b}": None for b in BANDS} | {"mean": None}
            continue
        out[metric] = {f"p{b}": float(np.percentile(values, b)) for b in BANDS} | {"mean": float(values.mean())}
    return out


def daily_bands(days: list[date], daily: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Per day the percentile bands of demand, production, fill rate, overtime and inventory value.

    Columns: day, metric, p10, p50, p90, mean.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        series = {
            "demand": daily["demand"],
            "produced": daily["produced"],
            "fill_rate": np.where(
                daily["demand"] > 0, daily["served"] / np.where(daily["demand"] > 0, daily["demand"], 1.0), 1.0
            ),
            "overtime_hours": daily["overtime_hours"],
            "inventory_value": daily["inventory_value"],
        }
    rows = []
    for metric, values in series.items():
        bands = np.percentile(values, BANDS, axis=0)
        rows.append(
            pd.DataFrame(
                {
                    "day": days,
                    "metric": metric,
                    **{f"p{b}": bands[i] for i, b in enumerate(BANDS)},
                    "mean": values.mean(axis=0),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


@dataclass
class ScenarioResult:
    """A scenario over plants and its baseline, on the same random numbers."""

    levers: Levers
    paths: int
    seed: int
    plants: dict[str, dict]  # plant_id -> {"summary", "baseline", "daily" (DataFrame), "baseline_daily"}
    network: dict  # {"summary", "baseline", "daily", "baseline_daily"} summed over the plants

    def to_json(self) -> dict:
        """What is saved with the scenario: summaries and daily bands of each plant and the network."""

        def part(entry):
            return {
                "summary": entry["summary"],
                "baseline": entry["baseline"],
                "daily": _records(entry["daily"]),
                "baseline_daily": _records(entry["baseline_daily"]),
            }

        return {
            "paths": self.paths,
            "seed": self.seed,
            "levers": self.levers.to_dict(),
            "plants": {p: part(e) for p, e in self.plants.items()},
            "network": part(self.network),
        }


def _records(frame: pd.DataFrame) -> list[dict]:
    out = frame.copy()
    out["day"] = [d.isoformat() for d in out["day"]]
    return out.round(4).to_dict("records")


def baselines(bases: Mapping[str, PlantBasis], paths: int = PATHS, seed: int = SEED) -> dict[str, tuple]:
    """plant_id -> (daily arrays, components) of the baseline: what a page keeps, so that a
    lever change recomputes the scenario only."""
    out = {}
    for plant_id, basis in bases.items():
        daily = simulate(basis, Levers(), draws=Draws.for_basis(basis, paths, seed))
        out[plant_id] = (daily, components(daily, costs(daily, basis.labour_rate, basis.fg_unit_value)))
    return out


def run(
    bases: Mapping[str, PlantBasis],
    levers: Levers,
    paths: int = PATHS,
    seed: int = SEED,
    baseline: Mapping[str, tuple] | None = None,
    progress=None,
) -> ScenarioResult:
    """Simulate `levers` for every plant against its baseline (`baselines`, computed here unless
    given for the same paths and seed), then the network: paths summed across plants, so the
    network's band is that of the sum, not a sum of bands."""
    if not bases:
        raise ScenarioError("Choose at least one plant.")
    if not 10 <= paths <= 20000:
        raise ScenarioError(f"Paths must be between 10 and 20000, not {paths}.")
    validate(levers, bases)
    tell = progress or (lambda fraction, message: None)
    baseline = dict(baseline or {})
    missing = {p: b for p, b in bases.items() if p not in baseline}
    baseline.update(baselines(missing, paths, seed) if missing else {})
    plants, network, network_base, days = {}, {}, {}, None
    for i, (plant_id, basis) in enumerate(bases.items()):
        tell(i / len(bases), f"Simulating {plant_id}")
        base_daily, base_parts = baseline[plant_id]
        if levers.is_baseline():
            daily, parts = base_daily, base_parts
        else:
            daily = simulate(basis, levers, draws=Draws.for_basis(basis, paths, seed))
            window_h = sum(w.hours for w in levers.maintenance_windows if w.line_id in basis.lines)
            parts = components(daily, costs(daily, basis.labour_rate, basis.fg_unit_value, window_h))
        plants[plant_id] = {
            "summary": summarize(parts),
            "baseline": summarize(base_parts),
            "daily": daily_bands(basis.days, daily),
            "baseline_daily": daily_bands(basis.days, base_daily),
        }
        days = days or basis.days
        _accumulate(network, daily, parts)
        _accumulate(network_base, base_daily, base_parts)
    tell(1.0, "Done")
    net = {
        "summary": summarize(network["parts"]),
        "baseline": summarize(network_base["parts"]),
        "daily": daily_bands(days, network["daily"]),
        "baseline_daily": daily_bands(days, network_base["daily"]),
    }
    return ScenarioResult(levers, paths, seed, plants, net)


def _accumulate(target: dict, daily: Mapping[str, np.ndarray], parts: Mapping[str, np.ndarray]) -> None:
    if not target:
        target["daily"] = {k: v.copy() for k, v in daily.items()}
        target["parts"] = {k: v.copy() for k, v in parts.items()}
        return
    for k, v in daily.items():
        target["daily"][k] += v
    for k, v in parts.items():
        target["parts"][k] += v


def comparison(result: ScenarioResult, plant_id: str | None = None) -> pd.DataFrame:
    """Scenario against baseline for one plant (None: the network); see `compare`."""
    return compare(result.network if plant_id is None else result.plants[plant_id])


def compare(entry: Mapping) -> pd.DataFrame:
    """Scenario against baseline of one result entry ({"summary", "baseline"}, live or as saved
    by `ScenarioResult.to_json`), one row per metric of METRICS (None where a value is missing).

    Columns: metric, label, unit, definition, baseline, scenario (means), change, scenario_p10,
    scenario_p90.
    """

    def value(part, metric, key):
        stat = ((entry.get(part) or {}).get(metric) or {}) if isinstance(entry, Mapping) else {}
        number = stat.get(key) if isinstance(stat, Mapping) else None
        ok = isinstance(number, (int, float)) and not isinstance(number, bool) and np.isfinite(number)
        return float(number) if ok else None

    rows = []
    for metric, (label, unit, definition, _) in METRICS.items():
        base, scen = value("baseline", metric, "mean"), value("summary", metric, "mean")
        rows.append(
            dict(
                metric=metric,
                label=label,
                unit=unit,
                definition=definition,
                baseline=base,
                scenario=scen,
                change=None if base is None or scen is None else scen - base,
                scenario_p10=value("summary", metric, "p10"),
                scenario_p90=value("summary", metric, "p90"),
            )
        )
    return pd.DataFrame(rows).astype(object)
