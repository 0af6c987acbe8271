"""Tell approvers (issue 19): email the users who may decide a recommendation when it is routed,
escalated, or about to pass its SLA, with a link that opens it.

Run by the worker (job `notify`), never by the decision flow: a page or the orchestration only
writes recommendations, and this job reads them afterwards, so an unreachable SMTP server
delays the emails, never a decision. Every notification is a row of `notification` (one per
recommendation, event and user: the unique key), planned first and sent after; a failed send
is recorded with its reason and retried up to `MAX_ATTEMPTS`, a sent one is never sent again.
"""

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from urllib.parse import urlencode

import pandas as pd
from sqlalchemy.engine import Engine

from data_access import notifications as log
from data_access.kpis import REFERENCE_CURRENCY
from data_access.settings import Settings
from governance.users import DEMO_USERS_FILE, User, load_users

SLA_WARNING_HOURS = 2.0
"""An open recommendation this close to its SLA gets a reminder to its approvers."""
EVENT_WORDS = {
    "routed": "waits for your decision",
    "escalated": "was escalated to you",
    "sla_warning": "reaches its SLA soon",
}


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    timeout_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "Smtp | None":
        if not settings.smtp_host:
            return None
        return cls(
            settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_user, settings.smtp_password
        )


def recipients(users: list[User], plant_id: str, roles: list[str]) -> list[tuple[User, str]]:
    """(user, role) for each user holding one of `roles` whose scope includes the plant: one per user."""
    chosen = []
    for user in users:
        role = next((r for r in roles if r in user.roles), None)
        if role is not None and user.scope.allows(plant_id):
            chosen.append((user, role))
    return chosen


def planned(engine: Engine, users: list[User], now: datetime) -> list[dict]:
    """The notifications the waiting recommendations call for (the log drops those already planned)."""
    waiting = log.waiting_recommendations(engine, now + timedelta(hours=SLA_WARNING_HOURS))
    rows = []
    for rec in waiting.to_dict("records"):
        routing = rec["routing"]
        events = [("routed", routing.get("approvers", []))]
        if rec["state"] == "escalated":
            events.append(("escalated", routing.get("escalate_to", [])))
        if rec["sla_soon"]:
            events.append(("sla_warning", routing.get("approvers", [])))
        for event, roles in events:
            rows += [
                {
                    "rec_id": int(rec["rec_id"]),
                    "plant_id": rec["plant_id"],
                    "event": event,
                    "username": user.username,
                    "role": role,
                    "email": user.email or None,
                }
                for user, role in recipients(users, rec["plant_id"], roles)
            ]
    return rows


def link(app_url: str, rec_id: int) -> str:
    """The Decision detail page with this recommendation open."""
    return f"{app_url.rstrip('/')}/decision_detail?{urlencode({'rec': rec_id})}"


def message(row: dict, rec: dict, smtp: Smtp, app_url: str) -> EmailMessage:
    due = rec["sla_due_utc"]
    sla = (
        "none"
        if pd.isna(due)
        else (f"{due.tz_convert(rec['plant_timezone']):%a %d %b %Y %H:%M %Z} plant time ({due:%Y-%m-%d %H:%M} UTC)")
    )
    cost = rec["estimated_cost"]
    mail = EmailMessage()
    mail["From"], mail["To"] = smtp.sender, row["email"]
    mail["Subject"] = f"[Control Tower] {rec['plant_name']}: {rec['title']} {EVENT_WORDS[row['event']]}"
    mail.set_content(
        f"{rec['title']} ({rec['kind']}, {rec['plant_name']}) {EVENT_WORDS[row['event']]} as {row['role']}.\n\n"
        f"Estimated cost: {'n/a' if cost is None else f'{cost:,.0f} {REFERENCE_CURRENCY}'}\n"
        f"SLA: {sla}\n\nOpen it: {link(app_url, row['rec_id'])}\n"
    )
    return mail


def send_due(engine: Engine, smtp: Smtp, app_url: str) -> dict:
    """Send every due notification over one SMTP connection; record each outcome.

    A server that cannot be reached or refuses fails every due row with the reason (retried on
    the next run); nothing else is touched. Returns counts: sent, failed.
    """
    rows = log.due(engine)
    if not rows:
        return {"sent": 0, "failed": 0}
    recs = log.waiting_recommendations(engine, datetime.now(timezone.utc)).set_index("rec_id")
    sent = failed = 0
    try:
        server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
        if smtp.user and smtp.password:
            server.starttls()
            server.login(smtp.user, smtp.password)
    except (OSError, smtplib.SMTPException) as exc:
        claimed = [row for row in rows if log.claim(engine, row)]
        for row in claimed:
            log.record(engine, row["notification_id"], sent=False, error=f"SMTP {smtp.host}:{smtp.port}: {exc}")
        return {"sent": 0, "failed": len(claimed)}
    with server:
        for row in rows:
            if not log.claim(engine, row):  # another worker's run is sending it
                continue
            if row["rec_id"] not in recs.index:  # decided meanwhile: nothing to ask any more
                log.record(engine, row["notification_id"], sent=False, error="decided before it was sent")
                failed += 1
                continue
            try:
                server.send_message(message(row, recs.loc[row["rec_id"]].to_dict(), smtp, app_url))
            except (smtplib.SMTPException, OSError) as exc:
                log.record(engine, row["notification_id"], sent=False, error=f"SMTP: {exc}")
                failed += 1
            else:
                log.record(engine, row["notification_id"], sent=True)
                sent += 1
    return {"sent": sent, "failed": failed}


def notify(engine: Engine, settings: Settings, now: datetime | None = None) -> tuple[dict, str]:
    """Plan the notifications of the waiting recommendations and send what is due."""
    now = now or datetime.now(timezone.utc)
    users = list(load_users(settings.users_file or DEMO_USERS_FILE).users.values())
    new = log.plan(engine, planned(engine, users, now), now)
    smtp = Smtp.from_settings(settings)
    if smtp is None:
        return {"planned": new, "sent": 0, "failed": 0}, f"{new} planned; no SMTP server configured, none sent"
    counts = send_due(engine, smtp, settings.app_url)
    return {"planned": new, **counts}, f"{new} planned, {counts['sent']} sent, {counts['failed']} failed"
