"""`webhookEndpoints`."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from resolvers.webhooks.types import WebhookEndpoint, webhooks


@strawberry.type
class WebhooksQuery:
    @strawberry.field(description="The workspace's webhook endpoints, oldest first.")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        endpoints = await webhooks(info).endpoints.list(info.context.workspace.id)
        return [WebhookEndpoint.from_record(e) for e in endpoints]
