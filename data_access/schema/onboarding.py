"""Plant data onboarding: mappings, loads, lineage, quarantine and the review list.

See docs/onboarding.md.
"""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from data_access.schema.base import metadata, utc_column

mapping = Table(
    "mapping",
    metadata,
    Column("mapping_id", Integer, primary_key=True, autoincrement=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("source", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("spec", JSON, nullable=False),
    utc_column("created_utc", nullable=False),
    Column("created_by", String(64), nullable=False),
    UniqueConstraint("plant_id", "source", "version", name="uq_mapping_plant_source_version"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("quarantine_id", Integer, primary_key=True, autoincrement=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False, index=True),
    Column("source", String(32), nullable=False),
    Column("file_name", String(260), nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("raw", JSON, nullable=False),
    Column("reason", Text, nullable=False),
    utc_column("created_utc", nullable=False),
    Column("resolved", Boolean, nullable=False, default=False),
    Column("load_id", Integer),  # the load that (last) rejected it
    Column("category", String(16)),  # invalid | unmapped | conflict | out_of_scope
    Column("raw_hash", String(16)),  # identifies the same raw row again
    Column("resolution", Text),  # e.g. "loaded by load 12"
    utc_column("resolved_utc"),
    Index("ix_quarantine_open", "plant_id", "source", "resolved"),
    # a redelivered bad live reading is found by the hash of its raw reading (migration 0018)
    Index("ix_quarantine_source_raw_hash", "source", "raw_hash"),
)

# What plant data onboarding (issue 7) adds; migration 0007. See docs/onboarding.md.
# One row per run of the ingest (command line, page or quarantine re-try): what was read,
# what it did, and the mapping version it used. A load whose file could not be read at all
# is recorded with status `failed` and its reason, and changed nothing else.
ingest_load = Table(
    "ingest_load",
    metadata,
    Column("load_id", Integer, primary_key=True, autoincrement=True),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("source", String(32), nullable=False),  # downtime | work_orders | production | ...
    Column("file_name", String(260), nullable=False),
    Column("file_sha256", String(64)),
    Column("mapping_id", ForeignKey("mapping.mapping_id")),
    Column("mapping_version", Integer),
    Column("actor", String(64), nullable=False),
    utc_column("started_utc", nullable=False),
    utc_column("finished_utc"),
    Column("status", String(16), nullable=False),  # loaded | partial | nothing_loaded | failed
    Column("rows_read", Integer, nullable=False, default=0),
    Column("inserted", Integer, nullable=False, default=0),
    Column("replaced", Integer, nullable=False, default=0),  # same natural key, new values
    Column("unchanged", Integer, nullable=False, default=0),  # already loaded as they are
    Column("duplicates", Integer, nullable=False, default=0),  # repeated inside the file
    Column("quarantined", Integer, nullable=False, default=0),
    Column("unmapped", Integer, nullable=False, default=0),  # quarantined for unmapped codes only
    Column("removed", Integer, nullable=False, default=0),  # rows of replaced loads the file dropped
    Column("first_day", Date),  # plant-local days the loaded rows cover
    Column("last_day", Date),
    Column("replaces", JSON),  # load ids this load supersedes (a corrected file)
    Column("message", Text),  # why it failed, and notes (encoding guessed, columns ignored)
    Index("ix_ingest_load_plant_source", "plant_id", "source", "started_utc"),
)

# Lineage: which load last delivered each natural key of a plant's source, with a hash of
# the canonical values, so a re-load changes nothing and a corrected row replaces the old.
ingest_row = Table(
    "ingest_row",
    metadata,
    Column("plant_id", String(32), primary_key=True),
    Column("source", String(32), primary_key=True),
    Column("natural_key", String(200), primary_key=True),
    Column("row_hash", String(16), nullable=False),
    Column("load_id", Integer, nullable=False, index=True),
    Column("row_number", Integer, nullable=False),
)

# The review list: local codes no mapping knows yet (asset, reason, material, ...), per
# plant. A data steward maps one to a canonical code (audited); later loads and quarantine
# re-tries of any source of that plant apply it.
unmapped_code = Table(
    "unmapped_code",
    metadata,
    Column("plant_id", ForeignKey("plant.plant_id"), primary_key=True),
    Column("kind", String(24), primary_key=True),
    Column("local_code", String(200), primary_key=True),
    Column("source", String(32), nullable=False),  # the source it was last seen in
    Column("occurrences", Integer, nullable=False, default=0),
    utc_column("first_seen_utc", nullable=False),
    utc_column("last_seen_utc", nullable=False),
    Column("last_load_id", Integer),
    Column("status", String(16), nullable=False),  # open | mapped
    Column("canonical_code", String(64)),
    Column("resolved_by", String(64)),
    utc_column("resolved_utc"),
)
