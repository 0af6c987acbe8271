"""The worker: its job runs (each the lease of one scheduled tick or request step) and the
requests it picks up. See docs/runtime.md.
"""

from sqlalchemy import JSON, Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from data_access.schema.base import metadata, utc_column

# One row per run of a job: a scheduled tick (`run_key` "tick:<UTC ISO>"), a request's step
# ("request:<request_id>") or a --once run ("once:<UTC ISO>"). The unique (job_name, run_key)
# row is also the lease: the worker that inserts it runs it, renews `lease_expires_utc` while it
# runs, and another worker takes over a `running` row whose lease has expired (jobs/leases).
job_run = Table(
    "job_run",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("job_name", String(32), nullable=False),
    Column("run_key", String(64), nullable=False),
    Column("trigger", String(16), nullable=False),  # schedule | request | load | first_start | once
    Column("request_id", Integer, nullable=True),
    Column("plant_id", String(32), nullable=True),  # a run for one plant (a load's pipeline)
    Column("schedule", String(64), nullable=True),  # the schedule of the worker that ran it
    Column("status", String(16), nullable=False),  # running | succeeded | failed
    Column("worker", String(96), nullable=False),
    Column("attempt", Integer, nullable=False, default=1),  # takeovers and retries count up
    utc_column("started_utc", nullable=False),
    utc_column("lease_expires_utc", nullable=False),
    utc_column("finished_utc"),
    Column("seconds", Float, nullable=True),
    Column("progress", Float, nullable=True),  # 0..1 while running
    Column("message", String(200), nullable=True),  # what it is doing now, or its summary
    Column("counts", JSON, nullable=True),  # what the run did, e.g. {"series": 36}
    Column("error", Text, nullable=True),
    UniqueConstraint("job_name", "run_key", name="uq_job_run_job_key"),
    Index("ix_job_run_started", "started_utc"),
    Index("ix_job_run_status", "status", "lease_expires_utc"),
)

# Work asked of the worker through the warehouse: "Run now" on the Jobs page (one job), a
# completed data load (the pipeline for its plant), the sample network's first start. Claimed
# by one worker with a guarded update; a claim whose lease expired is taken over.
job_request = Table(
    "job_request",
    metadata,
    Column("request_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # job | load | first_start
    Column("job_name", String(32), nullable=True),  # kind job: which job
    Column("plant_id", String(32), nullable=True),  # kind load: the plant loaded
    Column("load_id", Integer, nullable=True),
    Column("requested_by", String(64), nullable=False),
    utc_column("requested_utc", nullable=False),
    Column("status", String(16), nullable=False),  # pending | running | succeeded | failed
    Column("worker", String(96), nullable=True),
    utc_column("lease_expires_utc"),
    utc_column("finished_utc"),
    Column("error", Text, nullable=True),
    Index("ix_job_request_status", "status", "requested_utc"),
)
