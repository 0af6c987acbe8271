"""Deliver the outbox: one pass (`deliver_due`), the worker's loop (`run_delivery`), and an
admin's retry of a dead-lettered message.

A pass queues new outbox rows, then claims due messages in batches (a row lease: see
`data_access.delivery`), sends each over its plant's route and records the outcome at once,
in its own transaction. A deliverer killed mid-batch leaves its claimed messages leased; the
lease runs out and another pass sends them again, and the target deduplicates on the
idempotency key. A claim is given up before its lease runs out (the rest of the batch is
left for the next claim), so two deliverers never send the same message at the same time.
"""

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from sqlalchemy.engine import Engine
from tenacity import wait_exponential_jitter

from data_access import delivery as store
from data_access import intelligence
from data_access.frames import as_utc
from data_access.scope import PlantScope
from governance import audit
from governance.roles import can
from jobs.delivery import config as cfg
from jobs.delivery.transports import Rejected, RouteUnusable, Transient, message_body, open_transport

log = logging.getLogger("jobs.delivery")


@dataclass
class DeliveryReport:
    """What a pass did: counts per outcome, and the configuration problems it met."""

    queued: int = 0  # outbox rows newly queued
    claimed: int = 0
    sent: int = 0
    acknowledged: int = 0
    failed: int = 0
    dead: int = 0
    held: int = 0
    problems: list = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{self.queued} newly queued, {self.claimed} claimed: {self.acknowledged} acknowledged, "
            f"{self.sent} sent, {self.failed} failed (will retry), {self.dead} dead-lettered, "
            f"{self.held} held by their route"
        )
        return text + "".join(f"\n  problem: {p}" for p in self.problems)


def default_owner() -> str:
    """A deliverer's name in leases: host, process, a random part (two in one process differ)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Deliverer:
    """A deliverer: its lease name, its open transports (reused across passes) and routes."""

    def __init__(self, engine: Engine, settings, owner: str | None = None, env=None):
        self.engine = engine
        self.settings = cfg.DeliverySettings.coerce(settings)
        self.owner = owner or default_owner()
        self.env = env
        self.transports: dict[tuple, object] = {}
        retry = self.settings.retry
        self.wait = wait_exponential_jitter(multiplier=retry.initial_s, max=retry.max_backoff_s, jitter=retry.jitter_s)

    def check(self) -> list[str]:
        """The configuration's problems for the warehouse's plants (logged once per start)."""
        plants = intelligence.plant_ids(self.engine, PlantScope.everything())
        return cfg.check(self.settings, plants, self.env)

    def pass_once(self, now: datetime | None = None) -> DeliveryReport:
        """Queue new outbox rows and deliver every message due at `now` (default: the clock)."""
        report = DeliveryReport()
        fixed = as_utc(now)
        clock = (lambda: fixed) if fixed is not None else (lambda: datetime.now(timezone.utc))
        lease = timedelta(seconds=self.settings.lease_s)
        with self.engine.begin() as conn:
            report.queued = store.enqueue_new(conn, clock())
        due_by = clock()  # what fails in this pass is retried in a later one
        routes: dict[tuple, cfg.Route | str] = {}
        while True:
            with self.engine.begin() as conn:
                batch = store.claim(conn, self.owner, clock(), lease, self.settings.batch, due_by)
            if not batch:
                break
            report.claimed += len(batch)
            started = time.monotonic()
            for position, msg in enumerate(batch):
                if time.monotonic() - started > 0.8 * self.settings.lease_s:
                    with self.engine.begin() as conn:  # give the rest back before the lease runs out
                        store.release(conn, self.owner, [m.outbox_id for m in batch[position:]])
                    report.claimed -= len(batch) - position
                    break
                key = (msg.plant_id, msg.target)
                if key not in routes:
                    routes[key] = cfg.resolve(self.settings, msg.plant_id, msg.target, self.env)
                outcome = self._attempt(msg, routes[key], clock())
                with self.engine.begin() as conn:
                    if store.record(conn, self.owner, outcome, clock()):
                        _count(report, outcome)
        report.problems = sorted({r for r in routes.values() if isinstance(r, str)})
        return report

    def _attempt(self, msg: store.Claimed, route, now: datetime) -> store.Outcome:
        hold_until = now + timedelta(seconds=self.settings.retry.hold_s)
        if isinstance(route, str):
            return store.Outcome(msg.outbox_id, "held", detail=f"not sent: {route}", next_attempt_utc=hold_until)
        transport = self._transport(route)
        base = dict(transport=route.transport, destination=route.destination)
        try:
            sent = transport.send(msg, message_body(msg))
        except RouteUnusable as exc:
            return store.Outcome(msg.outbox_id, "held", detail=f"not sent: {exc}", next_attempt_utc=hold_until, **base)
        except Rejected as exc:
            return store.Outcome(
                msg.outbox_id, "dead", event="rejected", detail=f"rejected by the target: {exc}", **base
            )
        except Transient as exc:
            return self._failure(msg, str(exc), now, base)
        if sent.acknowledged:
            return store.Outcome(
                msg.outbox_id,
                "acknowledged",
                document_number=sent.document_number,
                detail="accepted by the target",
                **base,
            )
        return store.Outcome(msg.outbox_id, "sent", detail="handed over; waiting for the target's answer", **base)

    def _failure(self, msg, reason: str, now: datetime, base: dict) -> store.Outcome:
        retry = self.settings.retry
        attempt = msg.attempts + 1
        age = now - msg.created_utc
        if attempt >= retry.max_attempts or age > timedelta(hours=retry.max_age_hours):
            why = (
                f"{attempt} attempts"
                if attempt >= retry.max_attempts
                else f"{age.total_seconds() / 3600:.0f} h in the queue (limit {retry.max_age_hours:g} h)"
            )
            return store.Outcome(msg.outbox_id, "dead", detail=f"gave up after {why}; last error: {reason}", **base)
        delay = self.wait(SimpleNamespace(attempt_number=attempt))
        return store.Outcome(
            msg.outbox_id, "failed", detail=reason, next_attempt_utc=now + timedelta(seconds=delay), **base
        )

    def _transport(self, route: cfg.Route):
        key = (route.transport, route.url, route.folder, route.exchange, route.queue, route.plant_id, route.target)
        if key not in self.transports:
            self.transports[key] = open_transport(route)
        return self.transports[key]

    def close(self) -> None:
        for transport in self.transports.values():
            transport.close()
        self.transports.clear()


def _count(report: DeliveryReport, outcome: store.Outcome) -> None:
    setattr(report, outcome.state, getattr(report, outcome.state) + 1)


def deliver_due(engine: Engine, settings=None, now: datetime | None = None) -> DeliveryReport:
    """One delivery pass (the worker calls it on an interval). `settings`: DeliverySettings, the
    YAML document as a dict, a path, or None for DELIVERY_CONFIG / config/delivery.yaml."""
    deliverer = Deliverer(engine, settings)
    try:
        return deliverer.pass_once(now)
    finally:
        deliverer.close()


def run_delivery(engine: Engine, settings, stop_event: threading.Event) -> None:
    """Deliver until `stop_event` is set: a pass, then a pause of `interval_s`. Transports stay
    open between passes; a failing pass (warehouse unreachable) is logged and the loop goes on."""
    deliverer = Deliverer(engine, settings)
    try:
        for problem in deliverer.check():
            log.warning("delivery configuration: %s", problem)
        while not stop_event.is_set():
            try:
                report = deliverer.pass_once()
                if report.claimed:
                    log.info("delivery pass: %s", report.summary())
            except Exception:
                log.exception("delivery pass failed; retrying after %s s", deliverer.settings.interval_s)
            stop_event.wait(deliverer.settings.interval_s)
    finally:
        deliverer.close()


class RetryRefused(Exception):
    """An admin's retry was refused; the message says why."""


def retry_dead_letter(engine: Engine, user, outbox_id: int, reason: str, now: datetime | None = None) -> None:
    """Put a dead-lettered message back in the queue (permission retry_delivery, in the user's
    plant scope), audited as `delivery_retried` in the same transaction; refusals are audited
    as `delivery_retry_refused` and raise RetryRefused."""
    now = as_utc(now) or datetime.now(timezone.utc)
    plant_id = store.message_plant(engine, outbox_id)
    problem = None
    if plant_id is None or not user.scope.allows(plant_id):
        problem = f"outbox request #{outbox_id} does not exist or is outside your plant scope"
    elif not can(user.roles, "retry_delivery"):
        problem = "only an admin may retry a dead-lettered delivery"
    elif not (reason or "").strip():
        problem = "give a reason for the retry (what was fixed)"
    if problem is None:
        with engine.begin() as conn:
            if store.requeue_dead(conn, outbox_id, now, user.username, reason.strip()):
                audit.append(
                    conn,
                    user.username,
                    "delivery_retried",
                    plant_id=plant_id,
                    entity="outbox",
                    entity_id=outbox_id,
                    detail={"reason": reason.strip()},
                )
                return
        problem = f"outbox request #{outbox_id} is not dead-lettered (any more)"
    with engine.begin() as conn:
        audit.append(
            conn,
            user.username,
            "delivery_retry_refused",
            plant_id=plant_id,
            entity="outbox",
            entity_id=outbox_id,
            detail={"reason": (reason or "")[:500], "refusal": problem},
        )
    raise RetryRefused(problem)
