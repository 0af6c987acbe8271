"""The canonical warehouse schema (ISA-95 shaped), as SQLAlchemy Core tables, one module per domain.

Hierarchy: region -> plant -> line -> asset. Every dimension keeps the plant's own local code
beside the canonical id, so a local name can always be traced.

Conventions: timestamps are UTC (`*_utc`, timezone-aware); `day` columns are the plant-local
calendar day; durations are seconds (`*_s`); money is at the network-wide unit cost (docs/decisions.md 14). Each table is
defined whole in its domain module; the Alembic migrations in `data_access/migrations` create
exactly these tables, and docs/data-model.md describes every one (a test checks).
"""

from types import ModuleType

from data_access.schema.base import metadata, utc_column
from data_access.schema.decisions import audit_log, decision, outbox, plant_policy, recommendation
from data_access.schema.delivery import delivery_event, delivery_message, inbound_event
from data_access.schema.facts import (
    FACT_TABLES,
    asset_health_daily,
    demand_daily,
    downtime_event,
    feed_status,
    inventory_snapshot,
    plan_revision,
    production_daily,
    production_order,
    purchase_order,
    work_order,
)
from data_access.schema.intelligence import (
    forecast,
    forecast_run,
    forecast_score,
    forecast_series,
    model_hold,
    model_metric,
    model_version,
    risk_score,
    score_run,
)
from data_access.schema.jobs import job_request, job_run
from data_access.schema.live import health_reading, health_reading_day, live_collector
from data_access.schema.marts import (
    OPERATIONS_MARTS,
    mart_delivery_daily,
    mart_downtime_daily,
    mart_feed_reach,
    mart_line_daily,
    mart_plant_daily,
    mart_work_order_daily,
)
from data_access.schema.network import (
    asset,
    bom,
    downtime_reason,
    line,
    material,
    plant,
    plant_material,
    region,
    supplier,
)
from data_access.schema.notifications import notification
from data_access.schema.onboarding import ingest_load, ingest_row, mapping, quarantine, unmapped_code
from data_access.schema.planning import scenario, scenario_backtest, scenario_backtest_run

__all__ = [name for name, value in globals().items() if not name.startswith("_") and not isinstance(value, ModuleType)]
