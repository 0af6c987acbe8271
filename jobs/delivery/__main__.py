"""python -m jobs.delivery --url URL [--config PATH] [--once]: deliver the outbox (and, unless
--once or --no-inbound, consume the inbound queue) until interrupted."""

import argparse
import logging
import signal
import sys
import threading

from data_access.engine import WarehouseError, open_warehouse
from jobs.delivery.config import ConfigError, DeliverySettings
from jobs.delivery.deliver import Deliverer, run_delivery
from jobs.delivery.inbound import run_inbound


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.delivery", description=__doc__)
    parser.add_argument("--url", help="warehouse URL (default: WAREHOUSE_URL, secrets.toml, the SQLite file)")
    parser.add_argument("--config", help="delivery configuration (default: DELIVERY_CONFIG, config/delivery.yaml)")
    parser.add_argument("--once", action="store_true", help="one delivery pass, print what it did, exit")
    parser.add_argument("--no-inbound", action="store_true", help="do not consume the inbound queue")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = DeliverySettings.coerce(args.config)
    except ConfigError as exc:
        print(f"delivery: {exc}", file=sys.stderr)
        return 2
    try:
        engine = open_warehouse(args.url)
    except WarehouseError as exc:
        print(f"delivery: {exc}", file=sys.stderr)
        return 2
    deliverer = Deliverer(engine, settings)
    for problem in deliverer.check():
        print(f"configuration problem (messages on this route stay queued): {problem}", file=sys.stderr)
    if args.once:
        try:
            report = deliverer.pass_once()
        finally:
            deliverer.close()
        print(report.summary())
        return 0
    deliverer.close()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = [threading.Thread(target=run_delivery, args=(engine, settings, stop), name="delivery")]
    if not args.no_inbound:
        threads.append(threading.Thread(target=run_inbound, args=(engine, settings, stop), name="inbound"))
    for thread in threads:
        thread.start()
    try:
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(0.5)
    except KeyboardInterrupt:
        stop.set()
    for thread in threads:
        thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
