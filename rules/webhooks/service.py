"""The webhook parts the service runs: endpoint storage, the delivery
worker, and the signal that new membership changes may be there."""

from __future__ import annotations

from dataclasses import dataclass

from rules.membership.change_log import ChangeSignal
from rules.webhooks.delivery import WebhookDispatcher
from rules.webhooks.endpoints import WebhookEndpoints


@dataclass
class Webhooks:
    endpoints: WebhookEndpoints
    dispatcher: WebhookDispatcher
    signal: ChangeSignal

    async def stop(self) -> None:
        await self.dispatcher.stop()
        await self.signal.stop()
