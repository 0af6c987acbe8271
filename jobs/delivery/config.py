"""Where each plant's decisions go: delivery routes (hub default, plant override), retry policy,
inbound queue; and the check run on start.

A YAML file (`DELIVERY_CONFIG`, default `config/delivery.yaml`) names, per target system
(erp, cmms, mes), the route of the hub (`defaults`) and plant overrides (`plants`). A plant's
route is its own entry merged key by key over the default; an entry naming another transport
replaces the default whole. Secrets are never in the file: a webhook route names the
environment variable holding its secret (`secret_env`), an AMQP route may take its URL from
one (`url_env`).

`check` says, per plant and target, why a route cannot be used (unknown target or transport,
missing URL, folder or secret, a host that does not resolve); a broker refusing the login is
found when the AMQP transport connects. Messages on an unusable route stay queued with the
reason on their timeline; nothing is lost.
"""

import base64
import binascii
import os
import socket
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from data_access.settings import PROJECT_ROOT

TARGETS = ("erp", "cmms", "mes")
TRANSPORTS = ("webhook", "amqp", "file")
DEFAULT_PATH = PROJECT_ROOT / "config" / "delivery.yaml"
_ROUTE_KEYS = {"transport", "url", "url_env", "secret_env", "exchange", "queue", "folder", "timeout_s"}


class ConfigError(ValueError):
    """The delivery configuration cannot be read at all; the message says where and why."""


@dataclass(frozen=True)
class RetryPolicy:
    """Durable retries: the delay before attempt n+1 is tenacity's exponential backoff with
    jitter (initial_s * 2**(n-1), at most max_backoff_s, plus up to jitter_s); a message is
    dead-lettered after max_attempts attempts or once older than max_age_hours."""

    max_attempts: int = 10
    max_age_hours: float = 72.0
    initial_s: float = 5.0
    max_backoff_s: float = 900.0
    jitter_s: float = 5.0
    hold_s: float = 60.0  # an unusable route is looked at again after this


@dataclass(frozen=True)
class InboundSettings:
    """The AMQP queue the ERP and CMMS send process events and acknowledgements to."""

    url: str | None = "amqp://guest:guest@127.0.0.1:5672/%2F"
    url_env: str | None = None
    queue: str = "pnct.inbound"
    prefetch: int = 50


@dataclass(frozen=True)
class Route:
    """One resolved route of a plant's target system."""

    plant_id: str
    target: str
    transport: str
    url: str | None = None
    secret: str | None = None
    exchange: str = "pnct.outbox"
    queue: str | None = None  # AMQP: a durable queue to declare and bind (so nothing is unroutable)
    folder: str | None = None
    timeout_s: float = 10.0

    @property
    def routing_key(self) -> str:
        """AMQP routing key: plant and target system, e.g. EU-ZAR.erp."""
        return f"{self.plant_id}.{self.target}"

    @property
    def destination(self) -> str:
        """Where it goes, without credentials (shown on the page)."""
        if self.transport == "file":
            return str(self.folder)
        parts = urlsplit(self.url or "")
        where = f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"
        return f"{where} exchange {self.exchange} key {self.routing_key}" if self.transport == "amqp" else where


@dataclass(frozen=True)
class DeliverySettings:
    defaults: dict = field(default_factory=dict)  # target -> route entry
    plants: dict = field(default_factory=dict)  # plant -> target -> route entry
    retry: RetryPolicy = RetryPolicy()
    inbound: InboundSettings = InboundSettings()
    batch: int = 20  # messages claimed at a time
    lease_s: float = 300.0  # how long a claim holds; a killed deliverer's messages go back after it
    interval_s: float = 5.0  # pause between passes of run_delivery

    @classmethod
    def coerce(cls, settings) -> "DeliverySettings":
        """Settings as given to the entry points: DeliverySettings, a dict (the YAML document),
        a path to a YAML file, or None (DELIVERY_CONFIG, else config/delivery.yaml)."""
        if isinstance(settings, DeliverySettings):
            return settings
        if settings is None or isinstance(settings, (str, Path)):
            return load(settings)
        if isinstance(settings, dict):
            return parse(settings)
        raise ConfigError(
            f"delivery settings must be DeliverySettings, a dict or a path, not {type(settings).__name__}"
        )

    def entry(self, plant_id: str, target: str) -> dict | None:
        """The plant's route entry for a target: its override merged over the hub default."""
        default = self.defaults.get(target)
        local = (self.plants.get(plant_id) or {}).get(target)
        if local is None:
            return default
        if default is None or local.get("transport", default.get("transport")) != default.get("transport"):
            return local
        return {**default, **local}


def load(path=None) -> DeliverySettings:
    path = Path(path or os.environ.get("DELIVERY_CONFIG") or DEFAULT_PATH)
    if not path.is_file():
        raise ConfigError(
            f"delivery configuration {path} does not exist (set DELIVERY_CONFIG or create it; see docs/delivery.md)"
        )
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    return parse(document, str(path))


def parse(document: dict, where: str = "delivery settings") -> DeliverySettings:
    """Settings from the YAML document; structural mistakes raise ConfigError, route problems
    (unknown target, missing secret...) are left to `check`, per plant."""
    if not isinstance(document, dict):
        raise ConfigError(f"{where}: expected a mapping at the top")
    known = {"defaults", "plants", "retry", "inbound", "batch", "lease_s", "interval_s"}
    unknown = sorted(set(document) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    defaults = document.get("defaults") or {}
    plants = document.get("plants") or {}
    if (
        not isinstance(defaults, dict)
        or not isinstance(plants, dict)
        or not all(isinstance(v, dict) for v in plants.values())
    ):
        raise ConfigError(f"{where}: defaults must map targets to routes, plants must map plants to targets")
    try:
        retry = RetryPolicy(**(document.get("retry") or {}))
        inbound = InboundSettings(**(document.get("inbound") or {}))
    except TypeError as exc:
        names = (
            ", ".join(f.name for f in fields(RetryPolicy))
            + "; inbound: "
            + ", ".join(f.name for f in fields(InboundSettings))
        )
        raise ConfigError(f"{where}: {exc} (retry keys: {names})") from None
    scalars = {k: document[k] for k in ("batch", "lease_s", "interval_s") if k in document}
    return DeliverySettings(
        defaults={str(k): dict(v or {}) for k, v in defaults.items()},
        plants={str(p): {str(k): dict(v or {}) for k, v in t.items()} for p, t in plants.items()},
        retry=retry,
        inbound=inbound,
        **scalars,
    )


def resolve(settings: DeliverySettings, plant_id: str, target: str, env=None) -> Route | str:
    """The usable route of a plant's target, or the reason it cannot be used (text)."""
    env = os.environ if env is None else env
    if target not in TARGETS:
        return f"unknown target system {target!r} (known: {', '.join(TARGETS)})"
    entry = settings.entry(plant_id, target)
    if entry is None:
        return f"no delivery route is configured for the {target.upper()} of plant {plant_id} (nor a hub default)"
    unknown = sorted(set(entry) - _ROUTE_KEYS)
    if unknown:
        return f"route of {plant_id}/{target}: unknown key(s) {', '.join(unknown)}"
    transport = entry.get("transport")
    if transport not in TRANSPORTS:
        return f"route of {plant_id}/{target}: unknown transport {transport!r} (known: {', '.join(TRANSPORTS)})"
    url = entry.get("url")
    if entry.get("url_env"):
        url = env.get(entry["url_env"])
        if not url:
            return f"route of {plant_id}/{target}: environment variable {entry['url_env']} (its URL) is not set"
    route = dict(
        plant_id=plant_id,
        target=target,
        transport=transport,
        url=url,
        queue=entry.get("queue"),
        folder=entry.get("folder"),
        exchange=entry.get("exchange") or "pnct.outbox",
        timeout_s=float(entry.get("timeout_s") or 10.0),
    )
    if transport == "file":
        if not route["folder"]:
            return f"route of {plant_id}/{target}: a file drop needs a folder"
        return Route(**route)
    if not url:
        return f"route of {plant_id}/{target}: a {transport} route needs a url"
    parts = urlsplit(url)
    wanted = ("http", "https") if transport == "webhook" else ("amqp", "amqps")
    if parts.scheme not in wanted or not parts.hostname:
        return f"route of {plant_id}/{target}: {_safe(url)} is not an {' or '.join(wanted)} URL"
    if transport == "webhook":
        name = entry.get("secret_env")
        if not name:
            return f"route of {plant_id}/{target}: a webhook needs secret_env, the environment variable of its secret"
        secret = env.get(name)
        if not secret:
            return f"route of {plant_id}/{target}: the secret's environment variable {name} is not set"
        if not _is_secret(secret):
            return (
                f"route of {plant_id}/{target}: {name} is not a Standard Webhooks secret "
                "(whsec_ followed by base64 of 24 to 64 random bytes)"
            )
        route["secret"] = secret
    problem = _resolves(parts.hostname)
    if problem:
        return f"route of {plant_id}/{target}: {problem}"
    return Route(**route)


def check(settings: DeliverySettings, plant_ids, env=None) -> list[str]:
    """Every problem of the configuration for these plants, as sentences (empty: all usable).
    Targets named in the file but unknown are reported too."""
    problems = []
    for target in settings.defaults:
        if target not in TARGETS:
            problems.append(f"defaults: unknown target system {target!r} (known: {', '.join(TARGETS)})")
    plant_ids = list(plant_ids)
    for plant_id, targets in settings.plants.items():
        if plant_id not in plant_ids:
            problems.append(f"plants: {plant_id!r} is not a plant of the warehouse")
        problems += [
            f"plants.{plant_id}: unknown target system {t!r} (known: {', '.join(TARGETS)})"
            for t in targets
            if t not in TARGETS
        ]
    seen = set()
    for plant_id in plant_ids:
        for target in TARGETS:
            if settings.entry(plant_id, target) is None:
                continue
            found = resolve(settings, plant_id, target, env)
            if isinstance(found, str) and found not in seen:
                seen.add(found)
                problems.append(found)
    return problems


def _safe(url: str) -> str:
    parts = urlsplit(url)
    return url.replace(f":{parts.password}@", ":***@") if parts.password else url


def _is_secret(secret: str) -> bool:
    raw = secret.removeprefix("whsec_")
    try:
        return 24 <= len(base64.b64decode(raw + "==", validate=False)) <= 64
    except (binascii.Error, ValueError):
        return False


_RESOLVED: dict[str, str | None] = {}


def _resolves(host: str) -> str | None:
    """None when the host name resolves, else why not (answers are remembered per process)."""
    if host not in _RESOLVED:
        try:
            socket.getaddrinfo(host, None)
            _RESOLVED[host] = None
        except (socket.gaierror, UnicodeError) as exc:
            return f"the host {host!r} does not resolve ({exc.strerror if hasattr(exc, 'strerror') else exc})"
    return _RESOLVED[host]
