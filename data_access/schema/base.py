"""The one MetaData of the warehouse and its column conventions."""

from sqlalchemy import Column, DateTime, MetaData

metadata = MetaData()


def utc_column(name: str, **kw) -> Column:
    """A timezone-aware timestamp column (every `*_utc` column is UTC)."""
    return Column(name, DateTime(timezone=True), **kw)
