"""Saved what-if scenarios. See docs/scenarios.md."""

from sqlalchemy import JSON, Column, Integer, String, Table

from data_access.schema.base import metadata, utc_column

scenario = Table(
    "scenario", metadata,
    Column("scenario_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("plant_ids", JSON, nullable=False),
    Column("levers", JSON, nullable=False),
    Column("results", JSON),
    Column("data_version", String(64)),
    Column("state", String(16), nullable=False),  # draft | submitted | approved | rejected
    utc_column("created_utc", nullable=False),
)
