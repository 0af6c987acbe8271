"""The live collector: machine health from the IoT plants' MQTT broker into the warehouse.

    python -m jobs.live [--url URL] [--broker mqtt://user:password@127.0.0.1:1883] [--client-id ID]

The worker starts `run_collector(engine, settings, stop_event)`; the command runs the same loop
until Ctrl-C. What it guarantees (docs/live-feeds.md):

- **No reading lost**: it subscribes with QoS 1 on a persistent session (fixed client id, clean
  session off), so the broker keeps what arrives while the collector is away; each message is
  acknowledged (paho's manual ack) only after the batch holding it is committed. A crash
  before the commit means the broker delivers the message again.
- **None stored twice**: a reading's key is (asset, metric, reading time); a redelivery or a
  gateway that sends the same reading twice changes nothing.
- **Bad input never stops the stream**: malformed payloads, unknown assets, impossible values
  and timestamps in the future go to quarantine with their reason (data_access.live); a broker
  that refuses the connection or the login is retried with backoff, and the reason is stored
  in `live_collector` for the Models & data page.
- **Minutes to a decision**: the assets with new readings are rescored together at most every
  `rescore_every_s` seconds, and the orchestration runs for them (`rescore`).
- **One process per client id**: a lease row in `live_collector` keeps a second collector (another
  worker) waiting instead of taking the broker session back and forth.
"""

import argparse
import logging
import os
import queue
import signal
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta, timezone

import paho.mqtt.client as mqtt
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from data_access import live
from data_access.engine import WarehouseError, open_warehouse
from data_access.live import Broker, parse_broker
from forecasting import score
from governance import model_serving, orchestrate, signals
from jobs import logs, pipeline

log = logging.getLogger("jobs.live")


@dataclass(frozen=True)
class LiveSettings:
    """How the collector connects and batches. Environment: PNCT_MQTT_URL (broker), PNCT_MQTT_CLIENT_ID,
    PNCT_MQTT_PASSWORD (instead of a password in the URL)."""

    broker: str = "mqtt://127.0.0.1:1883"  # mqtt://[user[:password]@]host[:port], mqtts:// for TLS
    client_id: str = "pnct-live-collector"  # fixed: the broker keeps this session while it is away
    topic: str = live.TOPIC_FILTER
    batch_size: int = 500  # messages per transaction at most
    linger_s: float = 0.02  # commit when no message came for this long (the broker holds the rest)
    max_wait_s: float = 1.0  # ... or when the oldest message of the batch waited this long
    cadence_h: float = 1.0  # feed_status.expected_cadence_h of a live health feed: late after it
    rescore: bool = True
    rescore_every_s: float = 60.0
    retry_min_s: float = 1.0  # reconnect backoff, doubling up to retry_max_s
    retry_max_s: float = 60.0
    keepalive_s: int = 30
    lease_s: float = 60.0  # another process may take the client id after this long without renewal
    refresh_assets_s: float = 60.0  # how often plants, assets and asset mappings are re-read

    @classmethod
    def from_env(cls, **overrides) -> "LiveSettings":
        values = {"broker": os.environ.get("PNCT_MQTT_URL"), "client_id": os.environ.get("PNCT_MQTT_CLIENT_ID")}
        values = {k: v for k, v in values.items() if v}
        return cls(**{**values, **{k: v for k, v in overrides.items() if v is not None}})

    @classmethod
    def coerce(cls, settings) -> "LiveSettings":
        """LiveSettings from itself, a dict, or any object with some of its fields as attributes
        (the worker's settings); what is not given comes from the environment and defaults."""
        if isinstance(settings, cls):
            return settings
        names = [f.name for f in fields(cls)]
        given = settings if isinstance(settings, dict) else {n: getattr(settings, n, None) for n in names}
        return cls.from_env(**{k: v for k, v in given.items() if k in names})


# --- rescoring: forecasting and governance composed ------------------------------------------


def rescore(engine: Engine, asset_ids, now: datetime | None = None) -> str:
    """Rescore the failure risk of `asset_ids` and run the orchestration for them alone, so a
    risk that crosses its plant's threshold raises its recommendation now. Returns a summary."""
    now = now or datetime.now(timezone.utc)
    wanted = sorted(set(asset_ids))
    run_id = score.rescore_assets(engine, wanted, now, serving=model_serving)
    plants = live.plants_of(engine, wanted)

    def only_these(engine_, scope, as_of, params):
        frame = signals.risk_signals(
            engine_, scope.narrowed(plants), as_of, params, kinds=("maintenance",), providers=pipeline.MODEL_PROVIDERS
        )
        return frame[frame["subject_id"].isin(wanted)]

    report = orchestrate.run(engine, now, signals_fn=only_these)
    return (
        f"{len(wanted)} asset(s) rescored in run {run_id}; {report.above_threshold} at or above the "
        f"threshold, {len(report.created)} recommendation(s) raised, {report.already_raised} already open"
    )


# --- the collector ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Message:
    generation: int  # the connection it came on: acks go only to that connection
    mid: int
    qos: int
    topic: str
    payload: bytes
    arrived: float  # time.monotonic()


@dataclass(frozen=True)
class _State:
    state: str
    message: str | None
    error: bool = False
    connected: bool | None = None


class Collector:
    """One collector: the MQTT client's thread puts messages and state changes on a queue; this
    thread validates, stores and acknowledges them (rescoring runs in a thread of its own)."""

    def __init__(self, engine: Engine, settings: LiveSettings, stop_event: threading.Event):
        self.engine, self.settings, self.stop = engine, settings, stop_event
        self.broker = parse_broker(settings.broker)
        self.inbox: queue.Queue = queue.Queue()
        self.generation = 0
        self.pending_assets: set = set()  # assets with new readings since the last rescoring
        self.lock = threading.Lock()
        self.refused = False  # the broker refused the last connection attempt
        self.rescoring: threading.Thread | None = None
        self.last_rescore = time.monotonic()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def _client(self) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.settings.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        client.manual_ack_set(True)
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set()
        client.reconnect_delay_set(int(max(self.settings.retry_min_s, 1)), int(max(self.settings.retry_max_s, 1)))
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    # paho's thread ---------------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self.refused = reason_code.is_failure
        if reason_code.is_failure:
            self.inbox.put(_State("refused", _refusal(reason_code, self.broker), error=True, connected=False))
            return
        self.generation += 1
        client.subscribe(self.settings.topic, qos=1)
        resumed = "resumed its session" if flags.session_present else "started a new session"
        self.inbox.put(
            _State(
                "connected",
                f"connected to {self.broker.shown} ({resumed}); subscribed to {self.settings.topic} with QoS 1",
                connected=True,
            )
        )

    def _on_connect_fail(self, client, userdata):
        self.inbox.put(
            _State(
                "retrying",
                f"cannot reach the broker at {self.broker.shown}; retrying with backoff "
                f"(up to every {self.settings.retry_max_s:g} s)",
                error=True,
                connected=False,
            )
        )

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        if self.stop.is_set() or self.refused:  # a refusal already said why
            return
        self.inbox.put(
            _State(
                "retrying",
                f"connection to {self.broker.shown} lost ({reason_code}); the broker "
                "keeps the session, retrying with backoff",
                error=True,
                connected=False,
            )
        )

    def _on_message(self, client, userdata, message):
        self.inbox.put(
            _Message(self.generation, message.mid, message.qos, message.topic, message.payload, time.monotonic())
        )

    # this thread -----------------------------------------------------------------------------
    def run(self) -> None:
        """Wait for the lease on the client id, collect while holding it, until stopped."""
        s = self.settings
        lease = timedelta(seconds=s.lease_s)
        waiting_said = False
        while not self.stop.is_set():
            if live.claim_collector(self.engine, s.client_id, self.owner, self.broker.shown, _now(), lease):
                waiting_said = False
                try:
                    self._session()
                except Exception as exc:
                    self._state(
                        _State(
                            "stopped",
                            f"stopped by an error ({type(exc).__name__}: {_first_line(exc)}); "
                            "nothing unstored was acknowledged: restart it",
                            error=True,
                        )
                    )
                    raise
                finally:
                    live.release_collector(self.engine, s.client_id, self.owner, _now())
            elif not waiting_said:
                log.info(
                    "another process holds client id %s (the broker gives a session to one client "
                    "at a time); waiting for it to stop or go silent for %g s",
                    s.client_id,
                    s.lease_s,
                )
                waiting_said = True
            self.stop.wait(s.lease_s / 3)

    def _session(self) -> None:
        """Connect and collect while this process holds the lease and is not stopped."""
        s = self.settings
        self._state(_State("starting", f"connecting to {self.broker.shown} as {s.client_id}"))
        self.where = live.directory(self.engine)
        self.where_read = time.monotonic()
        self.client = self._client()
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=s.keepalive_s)
        self.client.loop_start()
        batch: list[_Message] = []
        renewed = time.monotonic()
        try:
            while not self.stop.is_set():
                try:
                    item = self.inbox.get(timeout=s.linger_s if batch else 0.5)
                except queue.Empty:
                    item = None
                if isinstance(item, _State):
                    self._state(item)
                elif isinstance(item, _Message):
                    batch.append(item)
                due = batch and (
                    item is None or len(batch) >= s.batch_size or time.monotonic() - batch[0].arrived >= s.max_wait_s
                )
                if due:
                    if self._flush(batch):
                        batch = []
                    else:
                        self.stop.wait(5.0)  # the warehouse is away: keep the batch, acknowledge nothing
                now = time.monotonic()
                if self.pending_assets and s.rescore and now - self.last_rescore >= s.rescore_every_s:
                    self._start_rescore()
                if now - renewed >= s.lease_s / 3:
                    renewed = now
                    if not self._renew():
                        log.warning("lost the lease on client id %s to another process: disconnecting", s.client_id)
                        return
            if batch:
                self._flush(batch)
        finally:
            self.client.disconnect()
            self.client.loop_stop()
            self._drain()
            if self.rescoring is not None:
                self.rescoring.join()
            self._state(_State("stopped", "stopped", connected=False))

    def _drain(self) -> None:
        """Forget what is still queued: unacknowledged, so the broker delivers it again."""
        while True:
            try:
                self.inbox.get_nowait()
            except queue.Empty:
                return

    def _renew(self) -> bool:
        try:
            return live.claim_collector(
                self.engine,
                self.settings.client_id,
                self.owner,
                self.broker.shown,
                _now(),
                timedelta(seconds=self.settings.lease_s),
            )
        except SQLAlchemyError as exc:
            log.error("cannot renew the lease: %s", _first_line(exc))
            return True  # the warehouse is away; keep collecting (writes wait for it)

    def _flush(self, batch: list[_Message]) -> bool:
        """Validate, store in one transaction, then acknowledge; False when the write failed."""
        now = datetime.now(timezone.utc)
        if time.monotonic() - self.where_read >= self.settings.refresh_assets_s:
            self._refresh_directory()
        parsed = [live.parse_message(m.topic, m.payload, self.where, now) for m in batch]
        if (
            any(r.category == "unmapped" for p in parsed for r in p.rejects)
            and time.monotonic() - self.where_read >= 10.0
        ):  # a code mapped in the review list meanwhile
            self._refresh_directory()
            parsed = [live.parse_message(m.topic, m.payload, self.where, now) for m in batch]
        readings = [r for p in parsed for r in p.readings]
        rejects = [r for p in parsed for r in p.rejects]
        dropped = [p.dropped for p in parsed if p.dropped]
        note = None
        if dropped:
            note = f"{len(dropped)} message(s) not stored: {dropped[-1]}"
        elif rejects:
            note = f"quarantined: {rejects[-1].reason} (topic {rejects[-1].topic})"
        try:
            result = live.store_batch(
                self.engine,
                readings,
                rejects,
                collector_id=self.settings.client_id,
                now=now,
                cadence_h=self.settings.cadence_h,
                dropped=len(dropped),
                message=note,
            )
        except SQLAlchemyError as exc:
            log.error("warehouse write failed, the batch waits (nothing acknowledged): %s", _first_line(exc))
            return False
        for m in batch:
            if m.qos > 0 and m.generation == self.generation:
                self.client.ack(m.mid, m.qos)  # an older connection's message comes again and is a duplicate
        with self.lock:
            self.pending_assets |= result.assets
        if note:
            log.warning(note)
        return True

    def _refresh_directory(self) -> None:
        try:
            self.where = live.directory(self.engine)
        except SQLAlchemyError as exc:
            log.error("cannot re-read the plants and asset mappings: %s", _first_line(exc))
        self.where_read = time.monotonic()

    def _start_rescore(self) -> None:
        """Rescore the pending assets in a thread of its own (one at a time), so the stream keeps
        flowing meanwhile: a broker queues only so many messages for a slow client."""
        if self.rescoring is not None and self.rescoring.is_alive():
            return
        with self.lock:
            assets, self.pending_assets = self.pending_assets, set()
        self.last_rescore = time.monotonic()
        self.rescoring = threading.Thread(target=self._rescore, args=(assets,), name="live-rescore", daemon=True)
        self.rescoring.start()

    def _rescore(self, assets: set) -> None:
        now = _now()
        try:
            message = rescore(self.engine, assets, now)
        except Exception as exc:  # noqa: BLE001 - a failed rescore must not stop the stream; it says why
            message = f"rescoring failed ({type(exc).__name__}: {_first_line(exc)}); retried with the next readings"
            with self.lock:
                self.pending_assets |= assets
        log.info(message)
        try:
            live.record_rescore(self.engine, self.settings.client_id, now, message)
        except SQLAlchemyError as exc:
            log.error("cannot record the rescoring: %s", _first_line(exc))

    def _state(self, change: _State) -> None:
        (log.warning if change.error else log.info)(change.message)
        try:
            live.set_collector_state(
                self.engine,
                self.settings.client_id,
                self.owner,
                change.state,
                change.message,
                _now(),
                error=change.error,
                connected=change.connected,
            )
        except SQLAlchemyError as exc:
            log.error("cannot record the collector's state: %s", _first_line(exc))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _refusal(reason_code, broker: Broker) -> str:
    text = str(reason_code)
    hint = ""
    if "user name or password" in text.lower() or "not authorized" in text.lower():
        hint = " (check the user name and password in the broker URL or PNCT_MQTT_PASSWORD)"
    return f"the broker at {broker.shown} refused the connection: {text}{hint}; retrying with backoff"


def _first_line(exc: Exception) -> str:
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]


def run_collector(engine: Engine, settings, stop_event: threading.Event) -> None:
    """The long-running loop the worker starts: collect until `stop_event` is set.

    `settings`: LiveSettings, a dict of its fields, or an object with some of them as attributes.
    Raises ValueError only for an unusable broker URL; connection problems are retried."""
    Collector(engine, LiveSettings.coerce(settings), stop_event).run()


# --- command line ------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.live", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets.toml, data/warehouse.db)")
    parser.add_argument(
        "--broker", help="mqtt://[user[:password]@]host[:port] (default: PNCT_MQTT_URL, else mqtt://127.0.0.1:1883)"
    )
    parser.add_argument(
        "--client-id", help="MQTT client id; the broker keeps its session (default pnct-live-collector)"
    )
    parser.add_argument("--no-rescore", action="store_true", help="store readings only, do not rescore")
    parser.add_argument("--rescore-every", type=float, help="seconds between rescorings (default 60)")
    parser.add_argument("--cadence-h", type=float, help="expected cadence of a live feed in hours (default 1)")
    parser.add_argument(
        "--lease-s",
        type=float,
        help="seconds after which another process may take over the "
        "client id of one that stopped renewing (default 60)",
    )
    args = parser.parse_args(argv)
    logs.configure()
    try:
        settings = LiveSettings.from_env(
            broker=args.broker,
            client_id=args.client_id,
            rescore_every_s=args.rescore_every,
            cadence_h=args.cadence_h,
            lease_s=args.lease_s,
        )
        if args.no_rescore:
            settings = replace(settings, rescore=False)
        parse_broker(settings.broker)
        engine = open_warehouse(args.url)
    except (WarehouseError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run_collector(engine, settings, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
