"""The worker's schedules: one TOML configuration, defaults in the repo, overridable per deployment.

`config/jobs.toml` holds the defaults (documented there and in docs/runtime.md). A deployment
names its own file in PNCT_JOBS_FILE or `[jobs] schedules_file` in .streamlit/secrets.toml;
its keys replace the defaults' keys. `load` validates everything and never raises for a bad
entry: an unknown job or an invalid cron expression becomes one line in `Schedules.problems`,
and the jobs that are valid keep their schedules.
"""

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from data_access.settings import PROJECT_ROOT, settings

DEFAULT_PATH = PROJECT_ROOT / "config" / "jobs.toml"
ENV_VAR = "PNCT_JOBS_FILE"
SERVICE_NAMES = ("delivery", "inbound", "live")
JOB_NAMES = ("feeds", "marts", "forecasts", "risk", "orchestrate", "sla")
"""Every job, in pipeline order (what --once and a load's pipeline run in)."""
INTERVAL_ANCHOR = datetime(2000, 1, 3, tzinfo=timezone.utc)
"""Interval ticks count from this Monday midnight UTC, so every worker computes the same ticks."""
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
WORKER_DEFAULTS = {
    "timezone": "UTC",
    "poll_seconds": 3.0,
    "lease_seconds": 120.0,
    "misfire_grace_seconds": 600,
    "retries": 2,
    "backoff_seconds": 30.0,
    "forecast_workers": 2,
}


class ScheduleError(ValueError):
    """The configuration file itself cannot be read; the message is one line."""


@dataclass(frozen=True)
class JobSchedule:
    name: str
    text: str  # as configured, e.g. "cron 0 2 * * *" or "every 5m"
    trigger: BaseTrigger

    def next_run(self, now: datetime | None = None) -> datetime | None:
        now = now or datetime.now(timezone.utc)
        return self.trigger.get_next_fire_time(None, now)

    def latest_tick(self, now: datetime | None = None) -> datetime | None:
        """The newest scheduled time at or before `now`: the tick a run at `now` belongs to."""
        now = now or datetime.now(timezone.utc)
        for lookback in (
            timedelta(minutes=1),
            timedelta(hours=1),
            timedelta(days=1),
            timedelta(days=8),
            timedelta(days=32),
            timedelta(days=400),
        ):
            fire = self.trigger.get_next_fire_time(None, now - lookback)
            if fire is not None and fire <= now:
                while True:
                    following = self.trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
                    if following is None or following > now:
                        return fire.astimezone(timezone.utc)
                    fire = following
        return None


@dataclass
class Schedules:
    jobs: dict[str, JobSchedule] = field(default_factory=dict)  # in pipeline order
    worker: dict = field(default_factory=lambda: dict(WORKER_DEFAULTS))
    candidates: tuple = ()
    services: tuple = ()  # the long-running services to host (SERVICE_NAMES)
    problems: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def configured_path() -> Path | None:
    """The deployment's schedules file (PNCT_JOBS_FILE or `[jobs] schedules_file`), None for the
    defaults alone."""
    return settings().jobs_file


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ScheduleError(f"schedules file {path} does not exist") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScheduleError(f"schedules file {path} cannot be read: {exc}") from None


def load(path: Path | None = None, defaults: Path = DEFAULT_PATH) -> Schedules:
    """The defaults overlaid with `path` (default: configured_path()), validated.

    Raises ScheduleError only when a file cannot be read at all.
    """
    path = path if path is not None else configured_path()
    raw = _read(defaults)
    sources = [str(defaults)]
    if path is not None and Path(path).resolve() != defaults.resolve():
        override = _read(Path(path))
        sources.append(str(path))
        for section in ("worker", "forecast", "services"):
            raw.setdefault(section, {}).update(override.get(section, {}))
        jobs = raw.setdefault("jobs", {})
        for name, entry in override.get("jobs", {}).items():
            jobs[name] = entry  # a job's entry is replaced whole: cron and every exclude each other
    result = Schedules(sources=sources)
    _worker_settings(raw.get("worker", {}), result)
    result.candidates = tuple(raw.get("forecast", {}).get("candidates", ()))
    _services(raw.get("services", {}), result)
    try:
        zone = ZoneInfo(str(result.worker["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        result.problems.append(f"worker.timezone {result.worker['timezone']!r} is not an IANA time zone; using UTC")
        zone = ZoneInfo("UTC")
    entries = raw.get("jobs", {})
    for name in entries:
        if name not in JOB_NAMES:
            result.problems.append(f"unknown job {name!r} in the schedules (known: {', '.join(JOB_NAMES)}); ignored")
    for name in JOB_NAMES:
        entry = entries.get(name)
        if entry is None:
            result.problems.append(f"job {name!r} has no schedule; it runs only on request")
            continue
        if not isinstance(entry, dict) or entry.get("enabled", True) is False:
            continue
        try:
            result.jobs[name] = _job(name, entry, zone)
        except ValueError as exc:
            result.problems.append(f"job {name!r}: {exc}; not scheduled")
    return result


def _services(raw: dict, result: Schedules) -> None:
    for name, on in raw.items():
        if name not in SERVICE_NAMES:
            result.problems.append(f"unknown service {name!r} (known: {', '.join(SERVICE_NAMES)}); ignored")
        elif not isinstance(on, bool):
            result.problems.append(f"services.{name} = {on!r} is not true or false; not started")
    result.services = tuple(name for name in SERVICE_NAMES if raw.get(name) is True)


def _worker_settings(raw: dict, result: Schedules) -> None:
    for key, value in raw.items():
        if key not in WORKER_DEFAULTS:
            result.problems.append(f"unknown worker setting {key!r}; ignored")
        elif key == "timezone":
            result.worker[key] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            result.worker[key] = type(WORKER_DEFAULTS[key])(value)
        else:
            result.problems.append(
                f"worker.{key} = {value!r} is not a non-negative number; using {WORKER_DEFAULTS[key]}"
            )


def _job(name: str, entry: dict, zone) -> JobSchedule:
    cron, every = entry.get("cron"), entry.get("every")
    if (cron is None) == (every is None):
        raise ValueError('give exactly one of cron = "m h dom mon dow" or every = "5m"')
    if cron is not None:
        try:
            trigger = CronTrigger.from_crontab(str(cron), timezone=zone)
        except ValueError as exc:
            raise ValueError(f"invalid cron expression {cron!r} ({exc})") from None
        return JobSchedule(name, f"cron {cron}", trigger)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", str(every))
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f'invalid interval {every!r} (e.g. "30s", "5m", "1h")')
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    return JobSchedule(
        name, f"every {every}", IntervalTrigger(seconds=seconds, start_date=INTERVAL_ANCHOR, timezone=timezone.utc)
    )
