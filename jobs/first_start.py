"""First start: wait for a usable warehouse, filling an empty embedded one with the sample network.

The worker and the app apply the same rule (`sample_wanted`): an empty SQLite warehouse gets
the sample network; an empty server database only when PNCT_SAMPLE_DATA=1. Whichever process
comes first generates it (the generator refuses a warehouse that already holds plants, so the
other one just finds it filled). The generator then asks the worker for the first-start
pipeline (a `first_start` request), which approves the first model versions as "sample-data
setup": real data loaded through ingest never gets that request.
"""

import logging
import sys
import threading

from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine, make_url

import sample_data
from data_access.engine import WarehouseError, make_engine, open_warehouse
from data_access.schema import plant
from data_access.settings import settings

log = logging.getLogger("jobs.worker")


def sample_wanted(dialect: str) -> bool:
    """PNCT_SAMPLE_DATA (data_access.settings): `1` always, `0` never, `auto` only into SQLite."""
    wanted = settings().sample_data
    return wanted == "1" or (wanted == "auto" and dialect == "sqlite")


def sample_size() -> dict:
    """The sample network's size: PNCT_SAMPLE_PLANTS (default 12) and PNCT_SAMPLE_DAYS (default
    1095), e.g. a 3-plant network for a quick try or a browser test."""
    return {"plants": settings().sample_plants, "days": settings().sample_days}


def wait_for_warehouse(url: str, settings: dict, stop: threading.Event) -> Engine | None:
    """The warehouse's engine once it is reachable and holds plants (None if stopped first).
    Says why it waits in one line on stderr, again only when the reason changes."""
    said = None
    while not stop.is_set():
        try:
            return open_warehouse(url)
        except WarehouseError as exc:
            reason = str(exc)
        if _fill_sample(url):
            continue
        if reason != said:
            print(f"worker waiting for the warehouse: {reason}", file=sys.stderr, flush=True)
            said = reason
        stop.wait(float(settings.get("poll_seconds", 3)))
    return None


def _fill_sample(url: str) -> bool:
    """Generate the sample network into an empty warehouse the rule allows; True when done."""
    try:
        if not sample_wanted(make_url(url).get_backend_name()):
            return False
        engine = make_engine(url)
        with engine.connect() as conn:
            if inspect(conn).has_table(plant.name) and conn.execute(select(plant.c.plant_id).limit(1)).first():
                return False
        log.info("generating the sample network into the empty warehouse")
        sample_data.generate(engine, progress=_log_progress(), **sample_size())
        return True
    except Exception as exc:  # noqa: BLE001 - unreachable, or filled by the app meanwhile: keep waiting
        log.info("sample network not generated here: %s", " ".join(str(exc).split())[:200])
        return False


def _log_progress():
    last = [-1]

    def progress(fraction: float, message: str) -> None:
        step = int(fraction * 10)
        if step != last[0]:
            last[0] = step
            log.info("sample network: %d%% %s", int(fraction * 100), message)

    return progress
