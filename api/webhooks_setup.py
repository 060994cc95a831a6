"""Wiring of webhooks and the change stream into the service: the key that
seals signing secrets, the service's own address, the change signal and
the delivery worker."""

from __future__ import annotations

import os
from pathlib import Path

from api.settings import Settings
from rules.membership.change_log import ChangeSignal
from rules.clock import Clock, SystemClock
from rules.membership.engine import MembershipEngine
from rules.store.types import Database
from rules.webhooks.delivery import DeliverySettings, WebhookDispatcher
from rules.webhooks.endpoints import ServiceAddress, WebhookEndpoints
from rules.webhooks.secrets import SecretBox
from rules.webhooks.service import Webhooks

KEY_FILE_NAME = "webhook-secrets.key"


def secret_box(settings: Settings) -> SecretBox:
    """`SEGMENTS_SECRET_KEY` when set; otherwise a key file created beside the
    embedded store (mode 0600), so that a dump of the store alone does not
    reveal the secrets; an in-memory store gets a key that dies with it."""
    if settings.secret_key:
        try:
            return SecretBox(settings.secret_key.encode())
        except ValueError:
            raise SystemExit("SEGMENTS_SECRET_KEY must be a Fernet key (32 url-safe base64-encoded bytes)")
    if not settings.mongodb_uri and settings.embedded_engine == "memory":
        return SecretBox(SecretBox.new_key())
    path = Path(settings.data_dir) / KEY_FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return SecretBox(path.read_bytes().strip())
    with os.fdopen(descriptor, "wb") as key_file:
        key = SecretBox.new_key()
        key_file.write(key)
    return SecretBox(key)


async def start_webhooks(settings: Settings, db: Database, clock: Clock, membership: MembershipEngine) -> Webhooks:
    signal = ChangeSignal(
        db, poll_interval=settings.change_poll_seconds, use_change_stream=bool(settings.mongodb_uri)
    )
    membership.changefeed.listeners.append(signal.notify)
    signal.start()
    box = secret_box(settings)
    own = ServiceAddress(host=settings.host, port=settings.port)
    dispatcher = WebhookDispatcher(
        db,
        clock,
        box=box,
        own=own,
        signal=signal,
        wall_clock=SystemClock(),
        settings=DeliverySettings(lease_seconds=settings.webhook_lease_seconds),
    )
    await dispatcher.start()
    return Webhooks(endpoints=WebhookEndpoints(db, box, own), dispatcher=dispatcher, signal=signal)
