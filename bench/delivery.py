"""Outbox delivery under faults, per transport: 10,000 approved requisitions delivered to a real
webhook receiver, the shared RabbitMQ and a folder, with faults injected.

    python -m bench.delivery [--messages 10000] [--subjects 500] [--url URL] [--transports webhook,amqp,file]

The warehouse (a throw-away SQLite file unless --url names another) gets the messages once;
each transport then starts from a fresh delivery state. Per transport:
- a deliverer process (`python -m jobs.delivery --once`) is killed with SIGKILL once about a
  third of the messages arrived; its leases (3 s) run out;
- webhook: the receiver is down for the first pass, answers HTTP 500 to the first arrival of
  one key in 20 and answers one in 500 slower than the 0.5 s timeout (after processing it);
- AMQP: the connection goes through a TCP proxy that is cut (connections dropped, new ones
  refused) for 2 s mid-run, which to the deliverer is a broker restart (the shared broker itself
  is not restarted: other work on this machine uses it);
- then two deliverers (threads, each its own engine) finish the rest.
The receiver deduplicates on the idempotency key (webhook header, AMQP message_id, file name)
and counts arrivals and processings. Printed per transport: messages, arrivals, lost (never
processed), processed twice, subjects out of order, wall time and messages per second of the
delivery (kill and restarts included). The last line names lost and duplicated over all.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pika
from sqlalchemy import select, update

from data_access import migrate
from data_access.engine import make_engine
from data_access.schema import delivery_event, delivery_message, outbox
from jobs.delivery import deliver_due
from tests.delivery_fixture import AMQP_URL, approve_many, warehouse
from tests.delivery_receiver import SECRET, Proxy, Receiver

ROOT = Path(__file__).resolve().parent.parent
RETRY = {"max_attempts": 100, "initial_s": 0.05, "max_backoff_s": 0.5, "jitter_s": 0.05, "hold_s": 0.5}


def reset(engine) -> None:
    with engine.begin() as conn:
        conn.execute(delivery_event.delete())
        conn.execute(delivery_message.delete())
        conn.execute(update(outbox).values(delivered_utc=None))


def done(engine, finished) -> int:
    with engine.connect() as conn:
        states = conn.execute(select(delivery_message.c.state)).scalars().all()
    return sum(s in finished for s in states)


def kill_midway(url, settings: dict, arrived, total: int, tmp: Path) -> bool:
    """A deliverer process, SIGKILLed once a third of the messages arrived. True if it was killed."""
    config = tmp / f"delivery-{uuid.uuid4().hex[:6]}.yaml"
    config.write_text(json.dumps({**settings, "lease_s": 3}))
    child = subprocess.Popen(
        [sys.executable, "-m", "jobs.delivery", "--url", url, "--config", str(config), "--once"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "BENCH_HOOK_SECRET": SECRET},
    )
    while arrived() < total // 3 and child.poll() is None:
        time.sleep(0.005)
    killed = child.poll() is None
    child.send_signal(signal.SIGKILL)
    child.wait()
    time.sleep(3.1)  # its leases run out
    return killed


def finish(url, settings: dict, total: int, finished, workers: int = 2, timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout

    def work():
        engine = make_engine(url)
        try:
            while time.monotonic() < deadline and done(engine, finished) < total:
                deliver_due(engine, settings)
                time.sleep(0.05)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def out_of_order(order: dict) -> int:
    return sum(1 for seen in order.values() if seen != sorted(seen))


def run_webhook(engine, url, ids, tmp):
    receiver = Receiver(
        fail_first=lambda key: 1 if int(key) % 20 == 0 else 0, slow=lambda key: 0.6 if int(key) % 500 == 0 else 0.0
    ).reserve_port()
    settings = {
        "defaults": {
            "erp": {"transport": "webhook", "url": receiver.url, "secret_env": "BENCH_HOOK_SECRET", "timeout_s": 0.5}
        },
        "retry": RETRY,
        "batch": 50,
    }
    os.environ["BENCH_HOOK_SECRET"] = SECRET
    start = time.monotonic()
    deliver_due(engine, settings)  # the receiver is down
    receiver.start()
    try:
        killed = kill_midway(url, settings, lambda: len(receiver.processed), len(ids), tmp)
        finish(url, settings, len(ids), ("acknowledged",))
    finally:
        receiver.stop()
    seconds = time.monotonic() - start
    return dict(
        arrivals=sum(receiver.arrivals.values()),
        processed=receiver.processed,
        killed=killed,
        order=out_of_order(receiver.order),
        seconds=seconds,
    )


def run_amqp(engine, url, ids, tmp):
    tag = uuid.uuid4().hex[:8]
    exchange, queue = f"pnct.bench.{tag}", f"pnct.bench.erp.{tag}"
    proxy = Proxy()
    settings = {
        "defaults": {
            "erp": {
                "transport": "amqp",
                "url": f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2F",
                "exchange": exchange,
                "queue": queue,
                "timeout_s": 2,
            }
        },
        "retry": RETRY,
        "batch": 50,
    }
    with pika.BlockingConnection(pika.URLParameters(AMQP_URL)) as setup:  # idle for minutes: not kept open
        setup.channel().queue_declare(queue, durable=True)
    arrivals, processed, order = Counter(), Counter(), {}
    stop = threading.Event()

    def consume():  # the target: dedups on message_id, counts arrivals and processings
        consumer = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        ch = consumer.channel()
        ch.basic_qos(prefetch_count=500)
        for method, props, body in ch.consume(queue, inactivity_timeout=0.2):
            if method is None:
                if stop.is_set():
                    break
                continue
            arrivals[props.message_id] += 1
            if arrivals[props.message_id] == 1:
                message = json.loads(body)
                processed[message["outbox_id"]] += 1
                order.setdefault((message["plant_id"], message["payload"]["subject_id"]), []).append(
                    message["outbox_id"]
                )
            ch.basic_ack(method.delivery_tag)
        consumer.close()

    consumer = threading.Thread(target=consume)
    consumer.start()
    start = time.monotonic()
    try:
        killed = kill_midway(url, settings, lambda: len(processed), len(ids), tmp)

        def outage():
            time.sleep(1.0)
            proxy.cut()
            time.sleep(2.0)
            proxy.up = True

        cut = threading.Thread(target=outage)
        cut.start()
        finish(url, settings, len(ids), ("sent",))
        cut.join()
        seconds = time.monotonic() - start
        deadline = time.monotonic() + 60
        while len(processed) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        consumer.join()
        with pika.BlockingConnection(pika.URLParameters(AMQP_URL)) as cleanup:
            channel = cleanup.channel()
            channel.queue_delete(queue)
            channel.exchange_delete(exchange)
        proxy.close()
    return dict(
        arrivals=sum(arrivals.values()), processed=processed, killed=killed, order=out_of_order(order), seconds=seconds
    )


def run_file(engine, url, ids, tmp):
    folder = tmp / f"drop-{uuid.uuid4().hex[:6]}"
    settings = {"defaults": {"erp": {"transport": "file", "folder": str(folder)}}, "retry": RETRY, "batch": 50}
    start = time.monotonic()
    count = lambda: len(list(folder.glob("*.json"))) if folder.exists() else 0  # noqa: E731
    killed = kill_midway(url, settings, count, len(ids), tmp)
    finish(url, settings, len(ids), ("sent",))
    seconds = time.monotonic() - start
    processed = Counter()
    leftovers = 0
    for path in folder.iterdir():
        if path.suffix != ".json":
            leftovers += 1  # a temporary file of the killed process (never renamed: never seen by a reader)
            continue
        processed[json.loads(path.read_text())["outbox_id"]] += 1
    return dict(
        arrivals=sum(processed.values()),
        processed=processed,
        killed=killed,
        order=0,
        seconds=seconds,
        note=f"{leftovers} temporary file(s) of the killed process left, never renamed",
    )


RUNS = {"webhook": run_webhook, "amqp": run_amqp, "file": run_file}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--subjects", type=int, default=500)
    parser.add_argument("--url", help="warehouse URL (default: a throw-away SQLite file)")
    parser.add_argument("--transports", default="webhook,amqp,file")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    url = args.url or f"sqlite:///{tmp / 'warehouse.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    warehouse(engine)
    t0 = time.monotonic()
    ids = approve_many(engine, args.messages, subjects=args.subjects)
    print(
        f"{len(ids):,} approved requisitions over {args.subjects} subjects in {time.monotonic() - t0:.1f} s "
        f"({url.split('://')[0]})",
        flush=True,
    )
    total_lost = total_twice = 0
    for name in args.transports.split(","):
        reset(engine)
        result = RUNS[name](engine, url, ids, tmp)
        lost = sum(1 for i in ids if result["processed"][i] == 0)
        twice = sum(1 for i in ids if result["processed"][i] > 1)
        total_lost, total_twice = total_lost + lost, total_twice + twice
        print(
            f"{name:8s} messages {len(ids):,}  arrivals {result['arrivals']:,}  lost {lost}  processed twice "
            f"{twice}  subjects out of order {result['order']}  deliverer killed mid-run "
            f"{'yes' if result['killed'] else 'no (it finished first)'}  {result['seconds']:.1f} s  "
            f"{len(ids) / result['seconds']:,.0f} messages/s" + (f"  ({result['note']})" if "note" in result else ""),
            flush=True,
        )
    engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"lost {total_lost}, duplicated {total_twice}")
    return 0 if total_lost == total_twice == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
