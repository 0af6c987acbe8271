"""The canonical warehouse schema (ISA-95 shaped), as SQLAlchemy Core tables.

Hierarchy: region -> plant -> line -> asset. Every dimension keeps the plant's own
local code beside the canonical id, so a local name can always be traced.

Conventions: timestamps are UTC (`*_utc`, timezone-aware); `day` columns are the
plant-local calendar day; durations are seconds (`*_s`); money is in the plant's currency.
Alembic migrations in `data_access/migrations` create exactly these tables.
"""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _utc(name, **kw):
    return Column(name, DateTime(timezone=True), **kw)


# --- dimensions -------------------------------------------------------------------------

region = Table(
    "region", metadata,
    Column("region_id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
)

plant = Table(
    "plant", metadata,
    Column("plant_id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("region_id", ForeignKey("region.region_id"), nullable=False),
    Column("country", String(2), nullable=False),
    Column("timezone", String(64), nullable=False),  # IANA zone, e.g. Europe/Berlin
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("data_maturity", String(16), nullable=False),  # iot | mes | spreadsheet
    Column("maintenance_workflow", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
)

line = Table(
    "line", metadata,
    Column("line_id", String(48), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("line_type", String(32), nullable=False),  # packaging | filling | processing | assembly
    Column("local_code", String(64), nullable=False),
)

asset = Table(
    "asset", metadata,
    Column("asset_id", String(64), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False, index=True),
    Column("line_id", ForeignKey("line.line_id"), nullable=False, index=True),
    Column("asset_class", String(32), nullable=False),  # canonical class, e.g. conveyor
    Column("criticality", String(1), nullable=False),  # A (line stops) | B | C
    Column("local_code", String(64), nullable=False),
    Column("local_name", String(100), nullable=False),
    Column("install_year", Integer, nullable=False),
)

material = Table(
    "material", metadata,
    Column("material_id", String(48), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("material_type", String(16), nullable=False),  # spare_part | raw | packaging | finished
    Column("unit", String(8), nullable=False),
    Column("unit_cost", Float, nullable=False),
    Column("asset_class", String(32)),  # spare parts: the asset class they fit
)

supplier = Table(
    "supplier", metadata,
    Column("supplier_id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("country", String(2), nullable=False),
)

# The material-plant view (as in an ERP's plant data for a material): which plant stocks
# which material, its local code, its supplier and its stocking policy.
plant_material = Table(
    "plant_material", metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("material_id", ForeignKey("material.material_id"), primary_key=True),
    Column("local_code", String(64), nullable=False),
    Column("supplier_id", ForeignKey("supplier.supplier_id")),
    Column("lead_time_days", Float),
    Column("safety_stock", Float, nullable=False, default=0.0),
    Column("reorder_point", Float, nullable=False, default=0.0),
)

# Bill of material: how much of each input one unit of a finished product consumes.
bom = Table(
    "bom", metadata,
    Column("product_id", ForeignKey("material.material_id"), primary_key=True),
    Column("material_id", ForeignKey("material.material_id"), primary_key=True),
    Column("qty_per_unit", Float, nullable=False),
)

downtime_reason = Table(
    "downtime_reason", metadata,
    Column("reason_code", String(32), primary_key=True),
    Column("category", String(24), nullable=False),  # failure | planned | changeover | starved | quality
    Column("is_failure", Boolean, nullable=False),
    Column("description", String(200), nullable=False),
)

# --- facts ---------------------------------------------------------------------------

production_daily = Table(
    "production_daily", metadata,
    Column("line_id", ForeignKey("line.line_id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("planned_busy_s", Float, nullable=False),
    Column("run_s", Float, nullable=False),
    Column("ideal_cycle_s", Float, nullable=False),  # seconds per unit at rated speed
    Column("produced_qty", Float, nullable=False),
    Column("good_qty", Float, nullable=False),
    Index("ix_production_daily_plant_day", "plant_id", "day"),
)

downtime_event = Table(
    "downtime_event", metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("line_id", ForeignKey("line.line_id"), nullable=False),
    Column("asset_id", ForeignKey("asset.asset_id"), nullable=False, index=True),
    _utc("start_utc", nullable=False),
    _utc("end_utc", nullable=False),
    Column("day", Date, nullable=False),  # plant-local day of the start
    Column("duration_s", Float, nullable=False),
    Column("reason_code", ForeignKey("downtime_reason.reason_code"), nullable=False),
    Column("category", String(24), nullable=False),
    Column("is_failure", Boolean, nullable=False),
    Column("local_reason", String(100), nullable=False),
    Index("ix_downtime_event_plant_day", "plant_id", "day"),
)

asset_health_daily = Table(
    "asset_health_daily", metadata,
    Column("asset_id", ForeignKey("asset.asset_id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False, index=True),
    Column("vibration_mm_s", Float),
    Column("temperature_c", Float),
    Column("current_a", Float),
    Column("run_hours", Float),
)

work_order = Table(
    "work_order", metadata,
    Column("wo_id", String(48), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False, index=True),
    Column("asset_id", ForeignKey("asset.asset_id"), nullable=False),
    Column("wo_type", String(16), nullable=False),  # preventive | corrective | inspection
    Column("status", String(16), nullable=False),  # open | closed
    _utc("created_utc", nullable=False),
    _utc("completed_utc"),
    Column("local_code", String(64), nullable=False),
)

inventory_snapshot = Table(
    "inventory_snapshot", metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("material_id", ForeignKey("material.material_id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("on_hand", Float, nullable=False),
)

# Demand for finished goods, consumption for raw, packaging and spare parts. Days with
# no demand may have no row: average daily demand divides by calendar days, not rows.
demand_daily = Table(
    "demand_daily", metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("material_id", ForeignKey("material.material_id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("qty", Float, nullable=False),
)

purchase_order = Table(
    "purchase_order", metadata,
    Column("po_id", String(48), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False, index=True),
    Column("material_id", ForeignKey("material.material_id"), nullable=False),
    Column("supplier_id", ForeignKey("supplier.supplier_id"), nullable=False),
    Column("qty", Float, nullable=False),
    Column("ordered_day", Date, nullable=False),
    Column("promised_day", Date, nullable=False),
    Column("received_day", Date),  # null while open
    Column("status", String(16), nullable=False),  # open | received | cancelled
)

production_order = Table(
    "production_order", metadata,
    Column("order_id", String(48), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("line_id", ForeignKey("line.line_id"), nullable=False),
    Column("product_id", ForeignKey("material.material_id"), nullable=False),
    Column("qty", Float, nullable=False),
    _utc("due_utc"),  # some ERPs leave it empty: such orders are not "due"
    Column("due_day", Date),  # plant-local day of due_utc
    _utc("planned_start_utc", nullable=False),
    _utc("planned_end_utc", nullable=False),
    _utc("actual_end_utc"),
    Column("produced_qty", Float, nullable=False, default=0.0),
    Column("status", String(16), nullable=False),  # planned | released | completed | cancelled
    Index("ix_production_order_plant_due", "plant_id", "due_day"),
)

feed_status = Table(
    "feed_status", metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("source", String(32), primary_key=True),  # production | downtime | health | inventory | ...
    _utc("last_received_utc"),
    Column("expected_cadence_h", Float, nullable=False),
)

# --- marts (refreshed after every load; pages read these, not the raw facts) ---------

mart_plant_daily = Table(
    "mart_plant_daily", metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("week_start", Date, nullable=False),  # Monday of the plant-local ISO week
    Column("planned_busy_s", Float, nullable=False, default=0.0),
    Column("run_s", Float, nullable=False, default=0.0),
    Column("ideal_produced_s", Float, nullable=False, default=0.0),  # sum(ideal cycle x produced)
    Column("ideal_good_s", Float, nullable=False, default=0.0),  # sum(ideal cycle x good)
    Column("produced_qty", Float, nullable=False, default=0.0),
    Column("good_qty", Float, nullable=False, default=0.0),
    Column("unplanned_downtime_s", Float, nullable=False, default=0.0),
    Column("planned_downtime_s", Float, nullable=False, default=0.0),
    Column("failures", Integer, nullable=False, default=0),
    Column("restoration_s", Float, nullable=False, default=0.0),
    Column("orders_due", Integer, nullable=False, default=0),
    Column("orders_on_time", Integer, nullable=False, default=0),
    Column("scheduled_qty", Float, nullable=False, default=0.0),
    Column("actual_qty", Float, nullable=False, default=0.0),
    Column("po_received", Integer, nullable=False, default=0),
    Column("po_on_time", Integer, nullable=False, default=0),
    # Inventory and consumption of raw and packaging materials, in the plant's currency:
    Column("demand_value", Float, nullable=False, default=0.0),  # sum(consumed qty x unit cost)
    Column("inventory_value", Float, nullable=False, default=0.0),  # on-hand value, carried
    # forward from the latest snapshot; 0 before the first one
    Column("covered_demand_value", Float, nullable=False, default=0.0),  # demand_value on days
    # with a known on-hand value, the denominator of days of supply
    Index("ix_mart_plant_daily_day", "day"),
)

# --- governance --------------------------------------------------------------------

plant_policy = Table(
    "plant_policy", metadata,
    Column("policy_id", Integer, primary_key=True, autoincrement=True),
    Column("plant_id", ForeignKey("plant.plant_id")),  # null: the enterprise default
    Column("key", String(64), nullable=False),
    Column("value", JSON, nullable=False),
    _utc("updated_utc", nullable=False),
    Column("updated_by", String(64), nullable=False),
    UniqueConstraint("plant_id", "key", name="uq_plant_policy_plant_key"),
)

recommendation = Table(
    "recommendation", metadata,
    Column("rec_id", Integer, primary_key=True, autoincrement=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False, index=True),
    Column("kind", String(24), nullable=False),  # maintenance | shortage | schedule | quality
    Column("subject_id", String(64), nullable=False),  # asset, material or order it is about
    Column("signal_key", String(128), nullable=False, unique=True),  # idempotency key
    Column("title", String(200), nullable=False),
    Column("risk", Float),
    Column("estimated_cost", Float),
    Column("evidence", JSON, nullable=False),
    Column("state", String(16), nullable=False),  # open | approved | rejected | overridden | escalated | expired
    Column("version", Integer, nullable=False, default=1),  # optimistic lock for stale pages
    _utc("created_utc", nullable=False),
    _utc("expires_utc"),
    _utc("decided_utc"),
)

decision = Table(
    "decision", metadata,
    Column("decision_id", Integer, primary_key=True, autoincrement=True),
    Column("rec_id", ForeignKey("recommendation.rec_id"), nullable=False, index=True),
    Column("username", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(16), nullable=False),  # approve | reject | override | comment | escalate
    Column("reason", Text),
    Column("override_value", JSON),
    _utc("decided_utc", nullable=False),
)

outbox = Table(
    "outbox", metadata,
    Column("outbox_id", Integer, primary_key=True, autoincrement=True),
    Column("rec_id", ForeignKey("recommendation.rec_id"), nullable=False, unique=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("target", String(16), nullable=False),  # erp | cmms | mes
    Column("request_type", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    _utc("created_utc", nullable=False),
    _utc("delivered_utc"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),  # gap-free, set by the writer
    _utc("at_utc", nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(48), nullable=False),
    Column("plant_id", String(32)),
    Column("entity", String(32)),
    Column("entity_id", String(64)),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
)

model_version = Table(
    "model_version", metadata,
    Column("model_id", Integer, primary_key=True, autoincrement=True),
    Column("model_name", String(64), nullable=False),
    Column("version", String(32), nullable=False),
    Column("params", JSON, nullable=False),
    Column("artifact", Text),  # serialized model (prophet.serialize JSON, or joblib base64)
    Column("status", String(16), nullable=False),  # candidate | approved | retired
    _utc("trained_utc", nullable=False),
    Column("approved_by", String(64)),
    _utc("approved_utc"),
    Column("approval_reason", Text),
    UniqueConstraint("model_name", "version", name="uq_model_version_name_version"),
)

model_metric = Table(
    "model_metric", metadata,
    Column("model_id", ForeignKey("model_version.model_id"), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("metric", String(32), primary_key=True),
    _utc("measured_utc", primary_key=True),
    Column("value", Float, nullable=False),
)

forecast = Table(
    "forecast", metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("metric", String(32), primary_key=True),  # demand | unplanned_downtime_h | output
    Column("run_id", String(32), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("model", String(32), nullable=False),
    Column("yhat", Float, nullable=False),
    Column("yhat_lower", Float),
    Column("yhat_upper", Float),
)

scenario = Table(
    "scenario", metadata,
    Column("scenario_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("plant_ids", JSON, nullable=False),
    Column("levers", JSON, nullable=False),
    Column("results", JSON),
    Column("data_version", String(64)),
    Column("state", String(16), nullable=False),  # draft | submitted | approved | rejected
    _utc("created_utc", nullable=False),
)

mapping = Table(
    "mapping", metadata,
    Column("mapping_id", Integer, primary_key=True, autoincrement=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("source", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("spec", JSON, nullable=False),
    _utc("created_utc", nullable=False),
    Column("created_by", String(64), nullable=False),
    UniqueConstraint("plant_id", "source", "version", name="uq_mapping_plant_source_version"),
)

quarantine = Table(
    "quarantine", metadata,
    Column("quarantine_id", Integer, primary_key=True, autoincrement=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False, index=True),
    Column("source", String(32), nullable=False),
    Column("file_name", String(260), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("raw", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    _utc("created_utc", nullable=False),
    Column("resolved", Boolean, nullable=False, default=False),
)

FACT_TABLES = (
    production_daily, downtime_event, asset_health_daily, work_order, inventory_snapshot,
    demand_daily, purchase_order, production_order, feed_status,
)

# --- decisions ---
# What the decisions workflow (issue 5) adds to the governance tables above; migration 0005.
# A recommendation freezes its routing (approver roles, escalation target, SLA) when it is
# raised, so a later policy change never re-routes a decision already under way.
recommendation.append_column(Column("source", String(16)))  # model | fallback_rule | workflow | test
recommendation.append_column(Column("routing", JSON))  # see governance/policies.py `routing`
recommendation.append_column(_utc("sla_due_utc"))  # escalated when still open after this
# The recommendation version a state-changing decision was taken on (null for comments): two
# decisions can never be taken on the same version, whatever the application does.
decision.append_column(Column("rec_version", Integer))
decision.append_constraint(UniqueConstraint("rec_id", "rec_version", name="uq_decision_rec_version"))
Index("ix_recommendation_state_sla", recommendation.c.state, recommendation.c.sla_due_utc)
Index("ix_recommendation_plant_created", recommendation.c.plant_id, recommendation.c.created_utc)
Index("ix_decision_decided", decision.c.decided_utc)
Index("ix_audit_log_plant_at", audit_log.c.plant_id, audit_log.c.at_utc)

# --- onboarding ---
# What plant data onboarding (issue 7) adds; migration 0007. See docs/onboarding.md.
# One row per run of the ingest (command line, page or quarantine re-try): what was read,
# what it did, and the mapping version it used. A load whose file could not be read at all
# is recorded with status `failed` and its reason, and changed nothing else.
ingest_load = Table(
    "ingest_load", metadata,
    Column("load_id", Integer, primary_key=True, autoincrement=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("source", String(32), nullable=False),  # downtime | work_orders | production | ...
    Column("file_name", String(260), nullable=False),
    Column("file_sha256", String(64)),
    Column("mapping_id", ForeignKey("mapping.mapping_id")),
    Column("mapping_version", Integer),
    Column("actor", String(64), nullable=False),
    _utc("started_utc", nullable=False),
    _utc("finished_utc"),
    Column("status", String(16), nullable=False),  # loaded | partial | nothing_loaded | failed
    Column("rows_read", Integer, nullable=False, default=0),
    Column("inserted", Integer, nullable=False, default=0),
    Column("replaced", Integer, nullable=False, default=0),  # same natural key, new values
    Column("unchanged", Integer, nullable=False, default=0),  # already loaded as they are
    Column("duplicates", Integer, nullable=False, default=0),  # repeated inside the file
    Column("quarantined", Integer, nullable=False, default=0),
    Column("unmapped", Integer, nullable=False, default=0),  # quarantined for unmapped codes only
    Column("removed", Integer, nullable=False, default=0),  # rows of replaced loads the file dropped
    Column("first_day", Date),  # plant-local days the loaded rows cover
    Column("last_day", Date),
    Column("replaces", JSON),  # load ids this load supersedes (a corrected file)
    Column("message", Text),  # why it failed, and notes (encoding guessed, columns ignored)
    Index("ix_ingest_load_plant_source", "plant_id", "source", "started_utc"),
)

# Lineage: which load last delivered each natural key of a plant's source, with a hash of
# the canonical values, so a re-load changes nothing and a corrected row replaces the old.
ingest_row = Table(
    "ingest_row", metadata,
    Column("plant_id", String(32), primary_key=True),
    Column("source", String(32), primary_key=True),
    Column("natural_key", String(200), primary_key=True),
    Column("row_hash", String(16), nullable=False),
    Column("load_id", Integer, nullable=False, index=True),
    Column("row_number", Integer, nullable=False),
)

# The review list: local codes no mapping knows yet (asset, reason, material, ...), per
# plant. A data steward maps one to a canonical code (audited); later loads and quarantine
# re-tries of any source of that plant apply it.
unmapped_code = Table(
    "unmapped_code", metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("kind", String(24), primary_key=True),
    Column("local_code", String(200), primary_key=True),
    Column("source", String(32), nullable=False),  # the source it was last seen in
    Column("occurrences", Integer, nullable=False, default=0),
    _utc("first_seen_utc", nullable=False),
    _utc("last_seen_utc", nullable=False),
    Column("last_load_id", Integer),
    Column("status", String(16), nullable=False),  # open | mapped
    Column("canonical_code", String(64)),
    Column("resolved_by", String(64)),
    _utc("resolved_utc"),
)

quarantine.append_column(Column("load_id", Integer))  # the load that (last) rejected it
quarantine.append_column(Column("category", String(16)))  # invalid | unmapped | conflict | out_of_scope
quarantine.append_column(Column("raw_hash", String(16)))  # identifies the same raw row again
quarantine.append_column(Column("resolution", Text))  # e.g. "loaded by load 12"
quarantine.append_column(_utc("resolved_utc"))
Index("ix_quarantine_open", quarantine.c.plant_id, quarantine.c.source, quarantine.c.resolved)
# Natural keys the ingest looks facts up by.
Index("ix_downtime_event_natural_key", downtime_event.c.plant_id, downtime_event.c.asset_id,
      downtime_event.c.start_utc)
Index("ix_work_order_plant_local_code", work_order.c.plant_id, work_order.c.local_code)

# --- intelligence ---
# What predictive operations (issue 4) adds; migration 0004. See docs/intelligence.md.
# A refresh run fits every plant x metric series; `forecast` holds the forecast it serves per
# series (its `run_id` is the run's), `forecast_series` how that series was chosen and
# `forecast_score` every candidate's rolling-origin backtest. A run id is
# "<last data day>-<forecaster version>", so a rerun on the same data replaces its own rows.
forecast_run = Table(
    "forecast_run", metadata,
    Column("run_id", String(32), primary_key=True),
    Column("model_id", ForeignKey("model_version.model_id"), nullable=False),  # forecaster version
    Column("data_end_day", Date, nullable=False),  # newest day of any series in the warehouse
    Column("horizon_days", Integer, nullable=False),
    Column("job", String(16), nullable=False),  # refresh | refit
    Column("actor", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("workers", Integer, nullable=False, default=1),
    Column("series", Integer, nullable=False, default=0),  # series written by the latest pass
    Column("fallbacks", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    Column("seconds", Float),
    _utc("started_utc", nullable=False),
    _utc("finished_utc"),
)

forecast_series = Table(
    "forecast_series", metadata,
    Column("run_id", ForeignKey("forecast_run.run_id"), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("metric", String(32), primary_key=True),  # demand | unplanned_downtime_h | output
    Column("unit", String(16), nullable=False),
    Column("served_model", String(32), nullable=False),  # the model whose forecast `forecast` holds
    Column("approved", Boolean, nullable=False),  # was the run's forecaster version approved when fitted
    Column("chosen_model", String(32)),  # the backtest's pick (null: nothing could be fitted)
    Column("fallback_reason", Text),  # why the served model is a fallback; null when it is not
    Column("history_start", Date),
    Column("history_end", Date),  # the forecast starts the day after
    Column("observed", Integer, nullable=False, default=0),  # days with a value in the history
    Column("missing", Integer, nullable=False, default=0),  # days without one
    Column("origins", Integer, nullable=False, default=0),  # backtest origins
    Column("seconds", Float),
    Column("error", Text),  # why no forecast at all could be made
    _utc("fitted_utc", nullable=False),
    Index("ix_forecast_series_plant_metric_fitted", "plant_id", "metric", "fitted_utc"),
)

forecast_score = Table(
    "forecast_score", metadata,
    Column("run_id", ForeignKey("forecast_run.run_id"), primary_key=True),
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("metric", String(32), primary_key=True),
    Column("candidate", String(32), primary_key=True),
    Column("mase", Float),  # mean over the origins; null when undefined or the candidate failed
    Column("wape", Float),
    Column("fit_seconds", Float),
    Column("error", Text),
)

# A scoring run: failure risk per asset, shortage probability per plant material, disruption
# probability per production order. Every row keeps the model's and the fallback rule's
# score beside the one served (`risk`), and why the fallback was served.
score_run = Table(
    "score_run", metadata,
    Column("run_id", String(32), primary_key=True),  # as_of as YYYYMMDDTHHMM
    _utc("as_of_utc", nullable=False),
    Column("actor", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # running | done | failed
    Column("summary", JSON),
    _utc("started_utc", nullable=False),
    _utc("finished_utc"),
)

risk_score = Table(
    "risk_score", metadata,
    Column("run_id", ForeignKey("score_run.run_id"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # failure | shortage | disruption
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("subject_id", String(64), primary_key=True),  # asset, material or production order
    Column("risk", Float, nullable=False),  # served probability, 0..1
    Column("source", String(16), nullable=False),  # model | fallback
    Column("reason", Text),  # why the fallback was served
    Column("model_id", ForeignKey("model_version.model_id")),  # the version that scored (if any)
    Column("model_risk", Float),
    Column("fallback_risk", Float),
    Column("stale", Boolean, nullable=False, default=False),  # an input feed beyond its limit
    Column("detail", JSON, nullable=False),
    Index("ix_risk_score_kind_plant", "kind", "plant_id"),
)

# --- operations marts ---
# What cross-plant operations (issue 3) adds; migration 0003. See docs/kpis.md. Refreshed by
# data_access.marts.refresh in the same transaction as mart_plant_daily, over the same
# plant-local days (each plant's first to last production day), so their sums agree with it.
# Their rows are bounded by lines, assets, reasons and days, not by how many events a plant logs.
# Derived tables without foreign keys: deleting a network's facts never trips on them, and a
# refresh of every plant rebuilds them whole (rows of plants no longer present go too).
# Their keys start with the day, and SQLite stores them clustered by it (WITHOUT ROWID), so a
# network-wide window reads one contiguous range; a plant's window uses (plant_id, day).

mart_line_daily = Table(
    "mart_line_daily", metadata,
    Column("line_id", String(48), nullable=False),
    Column("day", Date, nullable=False),  # plant-local
    Column("plant_id", String(32), nullable=False),
    Column("week_start", Date, nullable=False),  # Monday of the plant-local ISO week
    Column("month_start", Date, nullable=False),  # first day of the plant-local month
    Column("planned_busy_s", Float, nullable=False, default=0.0),
    Column("run_s", Float, nullable=False, default=0.0),
    Column("ideal_produced_s", Float, nullable=False, default=0.0),
    Column("ideal_good_s", Float, nullable=False, default=0.0),
    Column("produced_qty", Float, nullable=False, default=0.0),
    Column("good_qty", Float, nullable=False, default=0.0),
    Column("unplanned_downtime_s", Float, nullable=False, default=0.0),
    Column("planned_downtime_s", Float, nullable=False, default=0.0),
    Column("failures", Integer, nullable=False, default=0),
    Column("restoration_s", Float, nullable=False, default=0.0),
    Column("orders_due", Integer, nullable=False, default=0),
    Column("orders_on_time", Integer, nullable=False, default=0),
    Column("scheduled_qty", Float, nullable=False, default=0.0),
    Column("actual_qty", Float, nullable=False, default=0.0),
    Index("ix_mart_line_daily_plant_day", "plant_id", "day"),
    PrimaryKeyConstraint("day", "line_id"),
    sqlite_with_rowid=False,
)

# Downtime per asset, plant-local day (of the event's start), canonical reason and the
# plant's own reason text: Pareto, worst assets, MTBF/MTTR per asset and class, local codes.
mart_downtime_daily = Table(
    "mart_downtime_daily", metadata,
    Column("asset_id", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("reason_code", String(32), nullable=False),
    Column("local_reason", String(100), nullable=False),
    Column("plant_id", String(32), nullable=False),
    Column("line_id", String(48), nullable=False),
    Column("week_start", Date, nullable=False),
    Column("month_start", Date, nullable=False),
    Column("category", String(24), nullable=False),
    Column("is_failure", Boolean, nullable=False),
    Column("events", Integer, nullable=False, default=0),
    Column("duration_s", Float, nullable=False, default=0.0),
    Index("ix_mart_downtime_daily_plant_day", "plant_id", "day"),
    PrimaryKeyConstraint("day", "asset_id", "reason_code", "local_reason"),
    sqlite_with_rowid=False,
)

# Work orders per asset, plant-local day and type: how many were created and completed that
# day (each on its own day), and the hours the completed ones took. The backlog at the end of
# a day is everything created up to it minus everything completed up to it, so this mart
# covers each plant's whole work-order history, not only its production days.
mart_work_order_daily = Table(
    "mart_work_order_daily", metadata,
    Column("asset_id", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("wo_type", String(16), nullable=False),  # preventive | corrective | inspection
    Column("plant_id", String(32), nullable=False),
    Column("line_id", String(48), nullable=False),
    Column("created", Integer, nullable=False, default=0),
    Column("completed", Integer, nullable=False, default=0),
    Column("close_s", Float, nullable=False, default=0.0),  # sum(completed - created) of those completed
    Index("ix_mart_work_order_daily_plant_day", "plant_id", "day"),
    PrimaryKeyConstraint("day", "asset_id", "wo_type"),
    sqlite_with_rowid=False,
)

# Purchase orders received per plant, supplier, material, plant-local receipt day and lateness
# in days (received - promised; negative is early), with how many of them were on time.
mart_delivery_daily = Table(
    "mart_delivery_daily", metadata,
    Column("plant_id", String(32), nullable=False),
    Column("supplier_id", String(32), nullable=False),
    Column("material_id", String(48), nullable=False),
    Column("day", Date, nullable=False),
    Column("lateness_days", Integer, nullable=False),
    Column("received", Integer, nullable=False, default=0),
    Column("on_time", Integer, nullable=False, default=0),
    Index("ix_mart_delivery_daily_plant_day", "plant_id", "day"),
    PrimaryKeyConstraint("day", "plant_id", "supplier_id", "material_id", "lateness_days"),
    sqlite_with_rowid=False,
)

OPERATIONS_MARTS = (mart_line_daily, mart_downtime_daily, mart_work_order_daily, mart_delivery_daily)

# What the operations pages read from the facts directly, bounded (see data_access/operations.py):
# windows of stock counts and demand across plants, open orders, orders due in a window.
Index("ix_inventory_snapshot_day", inventory_snapshot.c.day)
Index("ix_demand_daily_day", demand_daily.c.day)
Index("ix_production_order_status_due", production_order.c.status, production_order.c.due_day)
Index("ix_production_order_due_day", production_order.c.due_day)

# --- issue 12: incremental forecast refresh ----------------------------------------------------
# A daily refresh refits each series' chosen model without re-running the candidate backtest;
# the backtest (reselection) runs when due. Each series row says when its chosen model was last
# picked by a backtest and why then (see forecasting/refresh.py).
forecast_series.append_column(Column("reselected_day", Date))  # data day of the backtest that chose chosen_model
forecast_series.append_column(Column("reselect_reason", Text))  # why that backtest ran: new series, weekly, drift ...
