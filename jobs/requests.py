"""Work asked of the worker by a person: "Run now" on the Jobs page, a request row plus its audit row.

No page runs a batch job in its own process: it writes a request, which the next poll of any
worker picks up (data_access.jobs.claim_request).
"""

from sqlalchemy.engine import Engine

from data_access import jobs as store
from governance import audit
from jobs import steps

RUN_PERMISSION = "run_jobs"
VIEW_PERMISSION = "view_jobs"


class RequestRefused(ValueError):
    """A request the user may not make; the message is for the user."""


def run_now(engine: Engine, user, job_name: str) -> int:
    """Ask the worker to run `job_name` for the whole network now; audited. Returns the request id."""
    if job_name not in steps.JOBS:
        raise RequestRefused(f"There is no job {job_name!r}.")
    if not user.can(RUN_PERMISSION):
        with engine.begin() as conn:
            audit.append(
                conn,
                user.username,
                "job_run_now_refused",
                entity="job",
                entity_id=job_name,
                detail={"refusal": "lacks the run_jobs permission"},
            )
        raise RequestRefused("Only a data steward or an admin may run a job now.")
    with engine.begin() as conn:
        request_id = store.request(conn, "job", user.username, job_name=job_name)
        audit.append(
            conn, user.username, "job_run_now", entity="job_request", entity_id=request_id, detail={"job": job_name}
        )
    return request_id
