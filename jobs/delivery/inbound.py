"""The inbound queue: process events and acknowledgements from the ERP and CMMS over AMQP.

`run_inbound` consumes the configured durable queue until its stop event is set. Each message
is validated and applied (or quarantined with its reason) by `data_access.process_events` in
one transaction, and acknowledged to the broker only after that commit: a consumer killed in
between gets the message again, and the copy is quarantined as a duplicate (its event id was
applied), never applied twice. A lost broker connection is retried with a growing pause.
"""

import contextlib
import logging
import os
import threading

import pika
import pika.exceptions
from sqlalchemy.engine import Engine

from data_access import process_events
from governance import audit
from jobs.delivery.config import DeliverySettings

log = logging.getLogger("jobs.delivery.inbound")


def audit_receipt(conn, detail: dict) -> None:
    """Audit a goods receipt that closed a requisition's loop (same transaction)."""
    audit.append(
        conn,
        "system",
        "delivery_received",
        plant_id=detail["plant_id"],
        entity="outbox",
        entity_id=detail["outbox_id"],
        detail=detail,
    )


def inbound_url(settings: DeliverySettings, env=None) -> str:
    """The inbound queue's broker URL (from its environment variable, when one is named)."""
    env = os.environ if env is None else env
    inbound = settings.inbound
    url = env.get(inbound.url_env) if inbound.url_env else inbound.url
    if not url:
        raise ValueError(f"inbound queue: environment variable {inbound.url_env} (its URL) is not set")
    return url


def run_inbound(engine: Engine, settings, stop_event: threading.Event, on_message=None) -> None:
    """Consume the inbound queue until `stop_event` is set. `on_message(received)` is called
    after each message (tests count with it)."""
    settings = DeliverySettings.coerce(settings)
    params = pika.URLParameters(inbound_url(settings))
    params.connection_attempts = 1
    pause = 1.0
    while not stop_event.is_set():
        connection = None
        try:
            connection = pika.BlockingConnection(params)
            channel = connection.channel()
            channel.queue_declare(settings.inbound.queue, durable=True)
            channel.basic_qos(prefetch_count=settings.inbound.prefetch)
            pause = 1.0
            for method, _props, body in channel.consume(settings.inbound.queue, inactivity_timeout=0.5):
                if stop_event.is_set():
                    break
                if method is None:
                    continue
                received = process_events.receive(
                    engine, body, channel=f"amqp {settings.inbound.queue}", on_received=audit_receipt
                )
                channel.basic_ack(method.delivery_tag)
                if received.status != "applied":
                    log.warning("inbound event quarantined (%s): %s", received.category, received.reason)
                if on_message is not None:
                    on_message(received)
            channel.cancel()
        except (pika.exceptions.ProbableAuthenticationError, pika.exceptions.ProbableAccessDeniedError) as exc:
            log.error("inbound queue: the broker refused the login: %s; retrying in %s s", exc, pause)
        except (pika.exceptions.AMQPError, OSError) as exc:
            log.warning("inbound queue: broker connection lost (%r); reconnecting in %s s", exc, pause)
        finally:
            if connection is not None and connection.is_open:
                with contextlib.suppress(pika.exceptions.AMQPError, OSError):
                    connection.close()
        if not stop_event.is_set():
            stop_event.wait(pause)
            pause = min(pause * 2, 30.0)
