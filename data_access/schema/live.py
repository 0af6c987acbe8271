"""Connected plants: machine-health readings received live over MQTT, and the collectors' state.

See docs/live-feeds.md.
"""

from sqlalchemy import Column, Date, Float, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Table, Text

from data_access.schema.base import metadata, utc_column

# What connected plants (issue 18) adds; migration 0018. See docs/live-feeds.md.
# Machine-health readings received live over MQTT, one row per asset, metric and reading time:
# the key makes a redelivered message (QoS 1 is at least once) change nothing. Values are in
# the metric's canonical unit; `day` is the plant-local day the reading rolls up into
# asset_health_daily (means of vibration, temperature and current; run hours from the counter).
health_reading = Table(
    "health_reading",
    metadata,
    Column("asset_id", ForeignKey("asset.asset_id"), nullable=False),
    Column("metric", String(16), nullable=False),  # vibration | temperature | current | run_hours
    utc_column("reading_utc", nullable=False),
    Column("plant_id", ForeignKey("plant.plant_id"), nullable=False),
    Column("day", Date, nullable=False),  # plant-local day of reading_utc
    Column("value", Float, nullable=False),  # mm/s, deg C, A, h (counter)
    utc_column("received_utc", nullable=False),
    PrimaryKeyConstraint("asset_id", "metric", "reading_utc"),
    Index("ix_health_reading_plant_day", "plant_id", "day"),
)

# The live readings summed per asset, metric and plant-local day, kept up to date with every
# batch (new readings only), so the daily roll-up reads a few rows per asset-day however often
# a sensor reports.
health_reading_day = Table(
    "health_reading_day",
    metadata,
    Column("asset_id", String(64), nullable=False),
    Column("metric", String(16), nullable=False),
    Column("day", Date, nullable=False),
    Column("plant_id", String(32), nullable=False),
    Column("n", Integer, nullable=False),
    Column("total", Float, nullable=False),
    Column("low", Float, nullable=False),
    Column("high", Float, nullable=False),
    PrimaryKeyConstraint("asset_id", "metric", "day"),
)

# One row per live collector (its MQTT client id): connection state, the last error in words,
# and what it received, stored and quarantined, so Models & data (and the Jobs page) can show
# it. Written on every state change and with every committed batch. It is also the lease that
# lets one process at a time use the client id (two would take the broker session from each
# other): `owner` holds it while `updated_utc` is renewed.
live_collector = Table(
    "live_collector",
    metadata,
    Column("collector_id", String(64), primary_key=True),
    Column("owner", String(100)),  # the process holding the lease (one collector per client id)
    Column("broker", String(200), nullable=False),  # URL without password
    Column("state", String(16), nullable=False),  # starting | connected | retrying | refused | stopped
    Column("message", Text),  # the last error or state change, for people
    utc_column("updated_utc", nullable=False),
    utc_column("connected_utc"),  # connected since (null while not connected)
    utc_column("last_error_utc"),
    utc_column("last_message_utc"),  # when the last message arrived
    utc_column("last_reading_utc"),  # the newest reading time stored
    Column("received", Integer, nullable=False, default=0),  # readings received (every delivery)
    Column("stored", Integer, nullable=False, default=0),  # new readings stored
    Column("duplicates", Integer, nullable=False, default=0),  # redeliveries already stored
    Column("quarantined", Integer, nullable=False, default=0),
    Column("dropped", Integer, nullable=False, default=0),  # messages on a topic of no known plant
    utc_column("rescored_utc"),  # the last rescoring of the assets that had new readings
    Column("rescore_message", Text),
)
