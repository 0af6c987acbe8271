"""Outbox delivery to the ERP, CMMS and MES (webhook, AMQP, file drop) and the inbound queue of
their answers and process events. See docs/delivery.md.

Entry points for the worker: `deliver_due` (one pass), `run_delivery` and `run_inbound`
(loops until a stop event); `python -m jobs.delivery --url URL [--once]` runs them alone.
"""

from jobs.delivery.config import ConfigError, DeliverySettings
from jobs.delivery.deliver import DeliveryReport, RetryRefused, deliver_due, retry_dead_letter, run_delivery
from jobs.delivery.inbound import run_inbound

__all__ = [
    "ConfigError",
    "DeliveryReport",
    "DeliverySettings",
    "RetryRefused",
    "deliver_due",
    "retry_dead_letter",
    "run_delivery",
    "run_inbound",
]
