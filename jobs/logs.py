"""One logging configuration for the jobs and the app: one line per event, key=value fields.

Modules log through `logging.getLogger(__name__)` (jobs) or "pnct.security" (logins, refused
actions); `configure()` sends their records to stderr as

    2026-12-02T06:10:00Z WARNING pnct.security login failed username=mallory reason=bad_credentials

so an operator can grep them and a log shipper can split them. Level from PNCT_LOG_LEVEL (INFO).
"""

import logging
import os
import sys
import time

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    converter = time.gmtime

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%SZ")

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={_value(value)}" for key, value in vars(record).items() if key not in _STANDARD)
        return super().format(record) + (f" {fields}" if fields else "")


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (a test's capture, a reopened stream)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def _value(value) -> str:
    text = str(value)
    return repr(text) if (" " in text or not text) else text


def configure(level: str | None = None) -> None:
    """Send the project's loggers ("jobs", "forecasting", "governance", "pnct") to stderr, once."""
    handler = _Stderr()
    handler.setFormatter(KeyValueFormatter())
    for name in ("jobs", "forecasting", "governance", "data_access", "pnct"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, _Stderr) for h in logger.handlers):
            logger.addHandler(handler)
        logger.setLevel(level or os.environ.get("PNCT_LOG_LEVEL", "INFO"))
        logger.propagate = False
