"""The three ways a message leaves: HTTP webhook, AMQP (RabbitMQ), file drop.

Every transport sends the same JSON document (`message_body`) and carries the outbox id as
the idempotency key, so a target that deduplicates on it processes a message once however
often it arrives (a retry after a timeout, a redelivery after a deliverer was killed).

Each `send` returns a `Sent` or raises:
- `Transient`: try again later (connection refused, timeout, HTTP 5xx/408/429, a lost broker
  connection, a message the broker could not route or refused);
- `Rejected`: the target refused the message itself (HTTP 4xx): it is dead-lettered with
  the target's reason, since sending it again would get the same answer;
- `RouteUnusable`: the route cannot work as configured (the broker refuses the login): the
  message stays queued with the reason.
"""

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pika
import pika.exceptions
from standardwebhooks import Webhook as Signer

from data_access.delivery import Claimed
from jobs.delivery.config import Route

USER_AGENT = "plant-network-control-tower/delivery"


class Transient(Exception):
    """Worth another attempt later."""


class Rejected(Exception):
    """The target refused the message; another attempt would get the same answer."""


class RouteUnusable(Exception):
    """The route is configured so that nothing can be sent (e.g. a refused broker login)."""


@dataclass(frozen=True)
class Sent:
    document_number: str | None = None  # the target's own number, when it answered with one

    @property
    def acknowledged(self) -> bool:
        return self.document_number is not None


def message_id(outbox_id: int) -> str:
    """The message id every transport uses (webhook-id, AMQP message_id, file name)."""
    return f"pnct-outbox-{outbox_id}"


def message_body(msg: Claimed) -> bytes:
    """The JSON document sent for an outbox row (compact, keys sorted, UTF-8)."""
    return json.dumps(
        {
            "id": message_id(msg.outbox_id),
            "outbox_id": msg.outbox_id,
            "type": msg.request_type,
            "target": msg.target,
            "plant_id": msg.plant_id,
            "rec_id": msg.rec_id,
            "created_utc": msg.created_utc.isoformat(),
            "payload": msg.payload,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    ).encode("utf-8")


class WebhookTransport:
    """POST the body, signed the Standard Webhooks way: headers webhook-id (the message id),
    webhook-timestamp (Unix seconds at sending) and webhook-signature
    `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, plus Idempotency-Key (outbox id)."""

    name = "webhook"

    def __init__(self, route: Route):
        self.route = route
        self.signer = Signer(route.secret)
        self.client = httpx.Client(
            timeout=httpx.Timeout(route.timeout_s), follow_redirects=False, headers={"user-agent": USER_AGENT}
        )

    def headers(self, msg: Claimed, body: bytes, at: datetime) -> dict:
        mid = message_id(msg.outbox_id)
        at = at.astimezone(timezone.utc)
        return {
            "content-type": "application/json",
            "webhook-id": mid,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": self.signer.sign(mid, at, body.decode("utf-8")),
            "idempotency-key": str(msg.outbox_id),
        }

    def send(self, msg: Claimed, body: bytes) -> Sent:
        headers = self.headers(msg, body, datetime.now(timezone.utc))
        try:
            response = self.client.post(self.route.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise Transient(f"no answer from {self.route.destination} within {self.route.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise Transient(f"could not reach {self.route.destination}: {exc}") from None
        status = response.status_code
        if 200 <= status < 300 or status == 409:  # 409: the target has it already (idempotency key)
            return Sent(_document_number(response))
        text = response.text[:300].strip()
        if status >= 500 or status in (408, 425, 429):
            raise Transient(f"HTTP {status} from {self.route.destination}{': ' + text if text else ''}")
        raise Rejected(f"HTTP {status} from {self.route.destination}{': ' + text if text else ''}")

    def close(self) -> None:
        self.client.close()


def _document_number(response: httpx.Response) -> str | None:
    try:
        answer = response.json()
    except ValueError:
        return None
    number = answer.get("document_number") if isinstance(answer, dict) else None
    return None if number in (None, "") else str(number)[:64]


class AmqpTransport:
    """Publish to a durable topic exchange with routing key <plant>.<target>: persistent
    messages (delivery mode 2), publisher confirms, `mandatory` (a message no queue takes is
    returned, and counts as not sent). The target's answer comes back on the inbound queue."""

    name = "amqp"

    def __init__(self, route: Route):
        self.route = route
        self.connection = None
        self.channel = None
        self.bound: set[tuple[str, str]] = set()

    def _open(self):
        if self.channel is not None and self.channel.is_open:
            return self.channel
        self.close()
        params = pika.URLParameters(self.route.url)
        params.socket_timeout = self.route.timeout_s
        params.blocked_connection_timeout = self.route.timeout_s
        params.connection_attempts = 1
        try:
            self.connection = pika.BlockingConnection(params)
        except (pika.exceptions.ProbableAuthenticationError, pika.exceptions.ProbableAccessDeniedError) as exc:
            raise RouteUnusable(
                f"the broker at {self.route.destination.split(' exchange')[0]} refused the login "
                f"of user {params.credentials.username!r}: {exc}"
            ) from None
        except pika.exceptions.AMQPError as exc:
            raise Transient(
                f"could not connect to the broker at {self.route.destination.split(' exchange')[0]}: {exc!r}"
            ) from None
        channel = self.connection.channel()
        channel.confirm_delivery()
        channel.exchange_declare(self.route.exchange, exchange_type="topic", durable=True)
        self.channel = channel
        self.bound.clear()
        return channel

    def send(self, msg: Claimed, body: bytes) -> Sent:
        try:
            channel = self._open()
            key = self.route.routing_key
            if self.route.queue and (self.route.queue, key) not in self.bound:
                channel.queue_declare(self.route.queue, durable=True)
                channel.queue_bind(self.route.queue, self.route.exchange, routing_key=key)
                self.bound.add((self.route.queue, key))
            channel.basic_publish(
                self.route.exchange,
                key,
                body,
                mandatory=True,
                properties=pika.BasicProperties(
                    content_type="application/json",
                    delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=message_id(msg.outbox_id),
                    type=msg.request_type,
                    headers={"idempotency-key": str(msg.outbox_id)},
                    timestamp=int(datetime.now(timezone.utc).timestamp()),
                ),
            )
        except pika.exceptions.UnroutableError:
            raise Transient(
                f"no queue takes routing key {self.route.routing_key} on exchange "
                f"{self.route.exchange} (the message was returned)"
            ) from None
        except pika.exceptions.NackError:
            raise Transient("the broker did not confirm the message (nack)") from None
        except (pika.exceptions.AMQPError, OSError) as exc:
            self.close()
            raise Transient(f"the broker connection failed: {exc!r}") from None
        return Sent()

    def close(self) -> None:
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError, OSError):
                connection.close()


class FileTransport:
    """One JSON file per message in the route's folder, `<target>-<plant>-<outbox id>.json`,
    written atomically: a temporary name in the same folder, flushed to disk, then renamed.
    A reader never sees half a file; sending again replaces the file of the same name."""

    name = "file"

    def __init__(self, route: Route):
        self.route = route

    def file_name(self, msg: Claimed) -> str:
        return f"{msg.target}-{msg.plant_id}-{msg.outbox_id:010d}.json"

    def send(self, msg: Claimed, body: bytes) -> Sent:
        folder = Path(self.route.folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(body)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, folder / self.file_name(msg))
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
            directory = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            raise Transient(f"could not write into {folder}: {exc}") from None
        return Sent()

    def close(self) -> None:
        pass


TRANSPORT_TYPES = {"webhook": WebhookTransport, "amqp": AmqpTransport, "file": FileTransport}


def open_transport(route: Route):
    return TRANSPORT_TYPES[route.transport](route)
