"""The app's warehouse: one engine per process, migrated and filled before first use.

A fresh machine needs nothing else: on the first run an empty warehouse gets the schema and
the sample network, with a progress bar. A warehouse that cannot be reached stops the page
with its URL (password hidden) and the cause; nothing is written to it.
"""

import threading

import streamlit as st
from sqlalchemy import select
from sqlalchemy.engine import Engine, make_url

import sample_data
from data_access import migrate
from data_access.engine import describe, make_engine, warehouse_url
from data_access.schema import plant
from jobs import first_start, logs


def get_engine() -> Engine:
    """The engine of the configured warehouse, shared by every session of this process."""
    url = None
    try:
        url = warehouse_url()
        return _engine(url)
    except Exception as exc:  # noqa: BLE001 - bad URL, unknown driver, unreadable secrets: all shown
        _stop(url, exc)


@st.cache_resource(show_spinner=False)
def configure_logging() -> None:
    """The app's log lines (security events) in the jobs' key=value format, once per process."""
    logs.configure()


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return make_engine(url)


def ensure_warehouse(engine: Engine) -> None:
    """Bring the schema up to date and generate the sample network into a warehouse without
    plants. Runs once per warehouse and process; concurrent sessions wait for the first."""
    lock, ready = _readiness()
    url = engine.url.render_as_string(hide_password=False)
    if url in ready:
        return
    with lock:
        if url in ready:
            return
        try:
            with engine.connect():
                pass  # reachable before anything is written
            migrate.upgrade(engine)
            empty = not _has_plant(engine)
        except Exception as exc:  # noqa: BLE001 - any failure to reach or migrate is shown, not raised
            _stop(url, exc)
        if empty:
            if not _sample_data_wanted(engine):
                st.info(
                    f"The warehouse at {describe(url)} holds no plant yet. Load plant data "
                    "with `python -m data_access.ingest`, or fill it with the sample network "
                    "(`python -m sample_data --url ...`, or set PNCT_SAMPLE_DATA=1).",
                    icon=":material/database:",
                )
                st.stop()
            _generate_sample_network(engine, url)
        ready.add(url)


def _has_plant(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(plant.c.plant_id).limit(1)).first() is not None


@st.cache_resource(show_spinner=False)
def _readiness() -> tuple[threading.Lock, set[str]]:
    """Process-wide: the warehouses already prepared, and the lock that prepares one at a time."""
    return threading.Lock(), set()


def _sample_data_wanted(engine: Engine) -> bool:
    """Fill an empty embedded SQLite warehouse with the sample network; an empty server
    database is taken for production and filled only when PNCT_SAMPLE_DATA=1 asks for it
    (the worker applies the same rule: jobs.first_start)."""
    return first_start.sample_wanted(engine.dialect.name)


def _generate_sample_network(engine: Engine, url: str) -> None:
    status = st.empty()
    status.info(
        f"The warehouse at {describe(url)} holds no plant yet: generating the sample "
        "network once; this takes about a minute.",
        icon=":material/factory:",
    )
    bar = st.progress(0.0, text="Starting")

    def progress(fraction: float, message: str) -> None:
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)

    try:
        sample_data.generate(engine, progress=progress, **first_start.sample_size())
    except Exception as exc:  # noqa: BLE001 - shown to the operator with the warehouse named
        # The generator writes in one transaction: a failure leaves the warehouse as it was,
        # unless another app process filled it meanwhile, which is just as good.
        if not _has_plant(engine):
            _stop(url, exc)
    finally:
        status.empty()
        bar.empty()


def _stop(url: str | None, cause: Exception):
    cause = getattr(cause, "orig", None) or cause  # the driver's message, not SQLAlchemy's wrapper
    where = _safe_describe(url)
    message = " ".join(str(cause).split())
    for secret in (url, _password(url)):  # a URL error may quote the URL, password and all
        if secret:
            message = message.replace(secret, where if secret == url else "***")
    st.error(f"The warehouse at {where} cannot be used: {type(cause).__name__}: {message}", icon=":material/database:")
    st.stop()


def _password(url: str | None) -> str | None:
    try:
        return make_url(url).password
    except Exception:  # noqa: BLE001 - no parseable URL, no password to find
        return None


def _safe_describe(url: str | None) -> str:
    """The URL without its password; an unparseable URL is not echoed (it may hold one)."""
    if url is None:
        return "the configured URL"
    try:
        return describe(url)
    except Exception:  # noqa: BLE001 - whatever fails to parse is not shown
        return "the configured URL (unparseable)"
