"""What the forecasting and scoring jobs need of model governance, passed in by `jobs`.

forecasting does not import governance (layers: jobs composes them). `governance.model_serving`
is the implementation: it registers versions with their audit row and decides when a plant's
score must come from the fallback rule. The protocol names exactly what forecasting calls.
"""

from datetime import datetime
from typing import Protocol

import pandas as pd


class ModelServing(Protocol):
    MODEL_FEEDS: dict[str, tuple[str, ...]]
    PSI_MAJOR: float  # input drift above it is a major shift: the forecast refresh reselects the series

    def register(
        self,
        conn,
        actor: str,
        model_name: str,
        version: str,
        params: dict,
        artifact: str | None,
        metrics=(),
        trained_utc: datetime | None = None,
        measured_utc: datetime | None = None,
    ) -> tuple[int, bool]: ...

    def approved_version(self, conn_or_engine, model_name: str) -> dict | None: ...

    def feed_limits(self, conn_or_engine, freshness: pd.DataFrame) -> pd.DataFrame: ...

    def stale_feeds(self, limits: pd.DataFrame, model_name: str) -> dict[str, list[str]]: ...

    def fallback_reason(
        self,
        version: dict | None,
        stale: list[str] | None = None,
        unavailable: str | None = None,
        held: str | None = None,
    ) -> str | None: ...

    def hold_degraded(
        self, engine, model_id: int, latest: pd.DataFrame, now: datetime | None = None
    ) -> dict[str, str]: ...

    def stale_reason(self, stale: list[str]) -> str: ...
