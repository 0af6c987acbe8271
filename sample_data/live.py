"""Live machine-health readings of the sample network's sensor plants, published over MQTT.

    python -m sample_data.live --broker mqtt://127.0.0.1:1883 [--plants NA-JOL,EU-BER] [--speed 1440]

Every asset of the plants with data maturity `iot` reports vibration, temperature, motor
current and its run-hours counter every `--interval-min` simulated minutes, on
`pnct/v1/<plant>/health/<asset local code>` with QoS 1 (docs/live-feeds.md), in the plant's
own units (Joliet's gateway sends deg F and in/s) and local time with its UTC offset.

The simulated clock starts `--backfill-days` ago and runs `--speed` times faster than the
wall clock until it reaches now (a day of readings per minute at 1440), then keeps pace
with the wall clock, so no reading is ever in the future. One asset per run degrades toward
a failure over the backfill (see `default_degrading`, or `--degrade`):
vibration, temperature and current climb as they do before the generator's failures, so its
risk rises on the Risk page and a maintenance recommendation reaches the Action queue. By
default it is the first asset of the first plant's second line (Joliet's filler line), not the
packaging-line bottleneck whose generated history already degrades.

Same seed and network size as the generated warehouse (`--seed 7 --network 12` by default),
so the asset codes match. Ctrl-C stops it; `--until-now` stops once the clock reaches now.
"""

import argparse
import json
import math
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from data_access.live import parse_broker
from sample_data import catalog, network

TOPIC = "pnct/v1/{plant}/health/{asset}"
WINDOW = 100  # QoS 1 messages the publisher has in flight at most
RAMP_DAYS = 14  # the degrading asset's climb toward failure, ending at the clock's "now"
UNITS = {  # plant -> metric -> unit its gateway publishes
    "NA-JOL": {"vibration": "in/s", "temperature": "F"},
}


@dataclass(frozen=True)
class Sensor:
    plant_id: str
    zone: ZoneInfo
    lat: float
    asset_id: str
    local_code: str
    vib: float  # baseline vibration, mm/s
    temp: float  # baseline temperature, deg C
    amps: float  # nominal current, A
    counter0: float  # run-hours counter at the start
    line: int  # 0-based line number at its plant


def sensors(seed: int = 7, network_size: int = 12, plants: list[str] | None = None) -> list[Sensor]:
    """Every asset of the sensor plants (data maturity iot) of the sample network, as generated."""
    shared = network.shared_dimensions(seed)
    start = datetime.now(timezone.utc).date() - timedelta(days=1095)
    out = []
    for i in range(network_size):
        layout = network.plant_layout(i, start, shared, network.plant_rng(seed, i))
        p = layout.plant
        if p["data_maturity"] != "iot" or (plants and p["plant_id"] not in plants):
            continue
        rng = np.random.default_rng([seed, i, 18])
        for a in layout.assets.itertuples(index=False):
            params = catalog.ASSET_CLASSES[a.asset_class]
            age = start.year - a.install_year
            out.append(
                Sensor(
                    p["plant_id"],
                    ZoneInfo(p["timezone"]),
                    p["lat"],
                    a.asset_id,
                    a.local_code,
                    params["vib"] * (1 + 0.012 * age),
                    params["temp"],
                    params["amps"],
                    float(rng.uniform(5_000, 60_000)),
                    int(a.line),
                )
            )
    return out


def default_degrading(found: list[Sensor], plants: list[str] | None) -> str | None:
    """The first asset of the first plant's second line: not the seed scenario's packaging-line
    bottleneck, whose generated history already degrades (its recommendation may be open)."""
    if not found:
        return None
    first = plants[0] if plants else found[0].plant_id
    mine = [s for s in found if s.plant_id == first] or found
    return next((s.asset_id for s in mine if s.line == 1), mine[-1].asset_id)


def readings(
    found: list[Sensor],
    start: datetime,
    end: datetime,
    interval: timedelta,
    degrading: str | None,
    now: datetime,
    seed: int = 7,
) -> Iterator[tuple[datetime, str, list[dict]]]:
    """(reading time, topic, payload) of every sensor at every tick in [start, end), time-ordered;
    a payload is the list of the asset's four readings at that tick (one message per asset)."""
    rng = np.random.default_rng([seed, 18, int(start.timestamp())])
    tick = start
    hours = interval.total_seconds() / 3600.0
    counters = {
        s.asset_id: s.counter0 + (start - datetime(2026, 1, 1, tzinfo=timezone.utc)).total_seconds() / 3600.0 * 0.8
        for s in found
    }
    while tick < end:
        for s in found:
            x = 0.0
            if s.asset_id == degrading:
                x = min(max(1.0 - (now - tick).total_seconds() / 86400.0 / RAMP_DAYS, 0.0), 1.0)
            season = math.sin(2 * math.pi * (tick.timetuple().tm_yday - 110) / 365.25)
            values = {
                "vibration": s.vib * (1 + rng.normal(0, 0.06)) + s.vib * 1.6 * x**2,
                "temperature": s.temp + 6 * abs(s.lat) / 50 * season + rng.normal(0, 0.8) + 10 * x**1.5,
                "current": s.amps * (0.85 + rng.normal(0, 0.03)) + 0.12 * s.amps * x,
            }
            counters[s.asset_id] += hours * (1.0 if rng.random() < 0.8 else 0.0)
            values["run_hours"] = counters[s.asset_id]
            stamp = tick.astimezone(s.zone).isoformat(timespec="seconds")
            payload = []
            for metric, value in values.items():
                unit = UNITS.get(s.plant_id, {}).get(
                    metric, {"vibration": "mm/s", "temperature": "C", "current": "A", "run_hours": "h"}[metric]
                )
                if unit == "in/s":
                    value = value / 25.4
                elif unit == "F":
                    value = value * 9 / 5 + 32
                payload.append(
                    {
                        "asset": s.local_code,
                        "metric": metric,
                        "value": round(float(value), 4),
                        "unit": unit,
                        "timestamp": stamp,
                    }
                )
            yield tick, TOPIC.format(plant=s.plant_id, asset=_topic_safe(s.local_code)), payload
        tick += interval


def _topic_safe(code: str) -> str:
    """A topic level may not hold + # or /; the payload carries the exact code."""
    return "".join("_" if c in "+#/" else c for c in code).replace(" ", "_")


class Publisher:
    """A QoS 1 publisher on a persistent session: messages published while the broker is away
    are kept by the client and sent when it is back (paho's own queue)."""

    def __init__(self, broker: str, client_id: str = "pnct-sample-live"):
        self.target = parse_broker(broker)
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, protocol=mqtt.MQTTv311
        )
        if self.target.username:
            self.client.username_pw_set(self.target.username, self.target.password)
        if self.target.tls:
            self.client.tls_set()
        self.client.max_inflight_messages_set(WINDOW)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 5)
        self.connected = threading.Event()
        self.sent = 0
        self.acknowledged = 0
        self._lock = threading.Lock()
        self.client.on_connect = lambda c, u, f, rc, p: self.connected.set() if not rc.is_failure else None
        self.client.on_disconnect = lambda *args: self.connected.clear()
        self.client.on_publish = self._on_publish
        self.client.connect_async(self.target.host, self.target.port, keepalive=30)
        self.client.loop_start()

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._lock:
            self.acknowledged += 1

    def publish(self, topic: str, payload: dict | list | bytes | str, timeout: float = 300.0) -> None:
        """Send one QoS 1 message; waits while the broker is away or WINDOW messages are unacknowledged.

        paho's own queue for messages published while disconnected or beyond its in-flight window
        was seen to stall after a broker restart (paho-mqtt 2.2: nothing more sent): this client
        only hands paho what it can send at once, and paho resends the in-flight ones on reconnection."""
        deadline = time.monotonic() + timeout
        while not self.connected.is_set() or self.sent - self.acknowledged >= WINDOW:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the broker at {self.target.shown} has not taken a message for {timeout:g} s")
            time.sleep(0.001)
        body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        info = self.client.publish(topic, body, qos=1)
        if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            raise RuntimeError("the publisher's queue is full")
        with self._lock:
            self.sent += 1

    def wait(self, timeout: float = 120.0) -> int:
        """Wait until the broker acknowledged everything published; returns those still unacknowledged."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                left = self.sent - self.acknowledged
            if left <= 0:
                return 0
            time.sleep(0.05)
        return left

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def run(
    broker: str,
    plants: list[str] | None = None,
    speed: float = 1440.0,
    interval_min: float = 60.0,
    backfill_days: float = 14.0,
    degrade: str | None = None,
    seed: int = 7,
    network_size: int = 12,
    until_now: bool = False,
    stop: threading.Event | None = None,
    out=sys.stdout,
) -> int:
    """Publish until stopped (or, with until_now, until the clock reaches now); returns readings published."""
    found = sensors(seed, network_size, plants)
    if not found:
        raise ValueError("no sensor (iot) plant " + (f"among {', '.join(plants)}" if plants else "in the network"))
    degrading = degrade or default_degrading(found, plants)
    if degrading not in {s.asset_id for s in found}:
        raise ValueError(f"no asset {degrading!r} at the chosen plants")
    stop = stop or threading.Event()
    interval = timedelta(minutes=interval_min)
    began_wall = time.monotonic()
    real_start = datetime.now(timezone.utc)
    clock_start = real_start - timedelta(days=backfill_days)
    clock_start = clock_start.replace(second=0, microsecond=0)
    publisher = Publisher(broker)
    published = 0
    print(
        f"publishing {len(found)} assets of {', '.join(sorted({s.plant_id for s in found}))} to "
        f"{publisher.target.shown}; {degrading} degrades toward a failure",
        file=out,
        flush=True,
    )
    tick = clock_start
    try:
        while not stop.is_set():
            simulated = clock_start + timedelta(seconds=(time.monotonic() - began_wall) * speed)
            now = datetime.now(timezone.utc)
            if simulated > now:
                if until_now:
                    break
                simulated = now
            if tick + interval > simulated:
                stop.wait(0.05)
                continue
            for _, topic, payload in readings(found, tick, tick + interval, interval, degrading, real_start, seed):
                publisher.publish(topic, payload)
                published += len(payload)
            tick += interval
            if published % (len(found) * 4 * 24) == 0:
                print(f"{tick:%Y-%m-%d %H:%M} UTC: {published:,} readings published", file=out, flush=True)
    finally:
        left = publisher.wait()
        publisher.close()
    print(f"{published:,} readings published ({left} not acknowledged by the broker)", file=out, flush=True)
    return published


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sample_data.live", description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://[user[:password]@]host[:port]")
    parser.add_argument("--plants", help="comma-separated sensor plants (default: every iot plant)")
    parser.add_argument(
        "--speed",
        type=float,
        default=1440.0,
        help="simulated seconds per second until the clock reaches now (default 1440: a day a minute)",
    )
    parser.add_argument("--interval-min", type=float, default=60.0, help="simulated minutes between readings")
    parser.add_argument("--backfill-days", type=float, default=14.0, help="where the clock starts (days ago)")
    parser.add_argument("--degrade", help="asset id that degrades toward a failure (default: see above)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--network", type=int, default=12, help="plants in the generated network (default 12)")
    parser.add_argument("--until-now", action="store_true", help="stop when the clock reaches now")
    args = parser.parse_args(argv)
    plants = [p.strip() for p in args.plants.split(",") if p.strip()] if args.plants else None
    if args.speed <= 0 or args.interval_min <= 0 or args.backfill_days < 0:
        print("error: --speed and --interval-min must be positive, --backfill-days not negative", file=sys.stderr)
        return 2
    try:
        run(
            args.broker,
            plants,
            args.speed,
            args.interval_min,
            args.backfill_days,
            args.degrade,
            args.seed,
            args.network,
            args.until_now,
        )
    except (ValueError, RuntimeError) as exc:  # a bad argument; a broker that never took a message
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
