"""Outbox delivery to the ERP, CMMS and MES and what comes back (issue 15; migration 0015).

See docs/delivery.md. One `delivery_message` per outbox row says where its delivery stands (a
row lease makes one deliverer own it at a time); `delivery_event` is its timeline;
`inbound_event` keeps every process event or acknowledgement received, applied or not.
"""

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text

from data_access.schema.base import metadata, utc_column

delivery_message = Table(
    "delivery_message",
    metadata,
    Column("outbox_id", ForeignKey("outbox.outbox_id"), primary_key=True),
    Column("plant_id", String(32), nullable=False),
    Column("target", String(16), nullable=False),  # erp | cmms | mes
    Column("subject_key", String(128), nullable=False),  # plant|subject: a later message waits for the earlier
    Column("state", String(16), nullable=False),  # queued | failed | sent | acknowledged | dead
    Column("attempts", Integer, nullable=False, default=0),
    utc_column("next_attempt_utc", nullable=False),
    Column("transport", String(16)),  # webhook | amqp | file, of the latest attempt
    Column("destination", String(300)),  # URL (without credentials), exchange and key, or folder
    Column("last_error", Text),  # why the latest attempt failed, or why it is held
    Column("document_number", String(64)),  # the target's own number (acknowledged)
    utc_column("created_utc", nullable=False),
    utc_column("sent_utc"),
    utc_column("acked_utc"),
    utc_column("dead_utc"),
    utc_column("received_utc"),  # a goods receipt closed the loop (shortage requests)
    Column("lease_owner", String(64)),  # the deliverer that claimed it
    utc_column("lease_until"),
    Index("ix_delivery_message_due", "state", "next_attempt_utc"),
    Index("ix_delivery_message_subject", "subject_key", "outbox_id"),
)

delivery_event = Table(
    "delivery_event",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("outbox_id", ForeignKey("outbox.outbox_id"), nullable=False, index=True),
    utc_column("at_utc", nullable=False),
    # queued | held | sent | acknowledged | rejected | failed | dead_lettered | retried | received
    Column("event", String(16), nullable=False),
    Column("attempt", Integer),
    Column("transport", String(16)),
    Column("detail", Text),
    Column("document_number", String(64)),
    utc_column("next_attempt_utc"),
    Column("actor", String(64), nullable=False),
)

inbound_event = Table(
    "inbound_event",
    metadata,
    Column("inbound_id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(128)),  # the sender's id; null when unreadable
    Column("applied_key", String(128), unique=True),  # the event id once applied: applied once, whoever races
    Column("event_type", String(32)),  # goods_receipt | po_confirmation | work_order_completion | ack
    Column("plant_id", String(32)),  # as sent (may be unknown)
    Column("entity_key", String(128)),  # po:<plant>:<po> | wo:<plant>:<wo> | outbox:<id>
    utc_column("occurred_utc"),
    utc_column("received_utc", nullable=False),
    Column("status", String(16), nullable=False),  # applied | quarantined
    Column("category", String(16)),  # invalid | unmapped | out_of_scope | duplicate | out_of_order
    Column("reason", Text),
    Column("raw", JSON, nullable=False),
    Index("ix_inbound_event_entity", "entity_key", "occurred_utc"),
)
