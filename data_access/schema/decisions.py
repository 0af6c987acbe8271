"""The decisions workflow: policies, recommendations, decisions, the outbox and the audit chain.

See docs/decisions-workflow.md.
"""

from sqlalchemy import JSON, Column, Float, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from data_access.schema.base import metadata, utc_column

plant_policy = Table(
    "plant_policy",
    metadata,
    Column("policy_id", Integer, primary_key=True, autoincrement=True),
    Column("plant_id", ForeignKey("plant.plant_id")),  # null: the enterprise default
    Column("key", String(64), nullable=False),
    Column("value", JSON, nullable=False),
    utc_column("updated_utc", nullable=False),
    Column("updated_by", String(64), nullable=False),
    UniqueConstraint("plant_id", "key", name="uq_plant_policy_plant_key"),
)

recommendation = Table(
    "recommendation",
    metadata,
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
    utc_column("created_utc", nullable=False),
    utc_column("expires_utc"),
    utc_column("decided_utc"),
    Column("source", String(16)),  # model | fallback_rule | workflow | test
    # frozen when raised, so a later policy change never re-routes a decision under way
    Column("routing", JSON),  # see governance/policies.py `routing`
    utc_column("sla_due_utc"),  # escalated when still open after this
    Index("ix_recommendation_state_sla", "state", "sla_due_utc"),
    Index("ix_recommendation_plant_created", "plant_id", "created_utc"),
)

decision = Table(
    "decision",
    metadata,
    Column("decision_id", Integer, primary_key=True, autoincrement=True),
    Column("rec_id", ForeignKey("recommendation.rec_id"), nullable=False, index=True),
    Column("username", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("action", String(16), nullable=False),  # approve | reject | override | comment | escalate
    Column("reason", Text),
    Column("override_value", JSON),
    utc_column("decided_utc", nullable=False),
    # the recommendation version a state-changing decision was taken on (null for comments):
    # two decisions can never be taken on the same version, whatever the application does
    Column("rec_version", Integer),
    UniqueConstraint("rec_id", "rec_version", name="uq_decision_rec_version"),
    Index("ix_decision_decided", "decided_utc"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("outbox_id", Integer, primary_key=True, autoincrement=True),
    Column("rec_id", ForeignKey("recommendation.rec_id"), nullable=False, unique=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("target", String(16), nullable=False),  # erp | cmms | mes
    Column("request_type", String(32), nullable=False),
    Column("payload", JSON, nullable=False),
    utc_column("created_utc", nullable=False),
    utc_column("delivered_utc"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),  # gap-free, set by the writer
    utc_column("at_utc", nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(48), nullable=False),
    Column("plant_id", String(32)),
    Column("entity", String(32)),
    Column("entity_id", String(64)),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    Index("ix_audit_log_plant_at", "plant_id", "at_utc"),
)
