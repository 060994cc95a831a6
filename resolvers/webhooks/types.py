"""GraphQL types of webhook endpoints and their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from resolvers.context import Info
from resolvers.errors import NotFoundError, ValidationError
from resolvers.pagination import Connection, SortOrder, paginate
from resolvers.scalars import datetime_from_stored
from resolvers.segments.types import MembershipChangeKind
from rules.membership.changefeed import ChangeKind
from rules.store.collections import WEBHOOK_DELIVERIES
from rules.webhooks.delivery import DeliveryStatus as DeliveryStatusValue
from rules.webhooks.endpoints import WebhookEndpoint as EndpointRecord
from rules.webhooks.service import Webhooks

# GraphQL enums: aliases of the domain's enums (valid types for mypy), named by strawberry.enum.
WebhookDeliveryStatus = DeliveryStatusValue
strawberry.enum(
    DeliveryStatusValue,
    name="WebhookDeliveryStatus",
    description="PENDING until delivered (see nextAttemptAt); FAILED once retries gave up (the endpoint was disabled).",
)

NEWEST_DELIVERIES_FIRST = SortOrder(fields=(("createdAt", -1), ("_id", -1)))


def webhooks(info: Info) -> Webhooks:
    return info.context.services.webhooks


@strawberry.type(description="One try to hand a delivery to its endpoint.")
class WebhookAttempt:
    at: datetime | None
    status_code: int | None = strawberry.field(description="The receiver's HTTP status; null when there was no answer.")
    latency_ms: float
    error: str | None = strawberry.field(description="Why it failed (non-2xx status, timeout, refused connection); null on success.")
    manual: bool = strawberry.field(description="Asked for with retryWebhookDelivery.")


@strawberry.type(description="A batch of changes sent to an endpoint, with every attempt.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="The `webhook-id` header, the same on every attempt.")
    endpoint_id: strawberry.ID
    status: WebhookDeliveryStatus
    change_count: int
    first_cursor: str = strawberry.field(description="Cursor of the first change in the batch.")
    last_cursor: str
    attempts: list[WebhookAttempt]
    created_at: datetime | None
    next_attempt_at: datetime | None = strawberry.field(description="When it is tried next (PENDING only).")
    delivered_at: datetime | None
    body: str = strawberry.field(description="The JSON body as sent.")

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(doc["_id"]),
            endpoint_id=strawberry.ID(doc["endpointId"]),
            status=DeliveryStatusValue(doc["status"]),
            change_count=doc["changeCount"],
            first_cursor=str(doc["firstSeq"]),
            last_cursor=str(doc["lastSeq"]),
            attempts=[
                WebhookAttempt(
                    at=datetime_from_stored(a["at"]),
                    status_code=a["statusCode"],
                    latency_ms=a["latencyMs"],
                    error=a["error"],
                    manual=a["manual"],
                )
                for a in doc["attempts"]
            ],
            created_at=datetime_from_stored(doc["createdAt"]),
            next_attempt_at=datetime_from_stored(doc["nextAttemptAt"]),
            delivered_at=datetime_from_stored(doc["deliveredAt"]),
            body=doc["body"],
        )


@strawberry.type(description="Where membership changes are sent, signed per the Standard Webhooks specification.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    segment_ids: list[strawberry.ID] | None = strawberry.field(description="The segments followed; null: all of the workspace's.")
    kinds: list[MembershipChangeKind]
    enabled: bool
    disabled_reason: str | None = strawberry.field(description="Why deliveries stopped, when the service disabled it.")
    timeout_seconds: float
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_record(cls, endpoint: EndpointRecord) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(endpoint.id),
            url=endpoint.url,
            segment_ids=None if endpoint.segment_ids is None else [strawberry.ID(s) for s in endpoint.segment_ids],
            kinds=[ChangeKind(k) for k in endpoint.kinds],
            enabled=endpoint.enabled,
            disabled_reason=endpoint.disabled_reason,
            timeout_seconds=endpoint.timeout_seconds,
            created_at=datetime_from_stored(endpoint.created_at),
            updated_at=datetime_from_stored(endpoint.updated_at),
        )

    @strawberry.field(description="Deliveries to this endpoint, newest first.")
    async def deliveries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: WebhookDeliveryStatus | None = None,
    ) -> Connection[WebhookDelivery]:
        match: dict[str, Any] = {"ws": info.context.workspace.id, "endpointId": str(self.id)}
        if status is not None:
            match["status"] = str(status)
        return await paginate(
            info.context.db[WEBHOOK_DELIVERIES],
            match=match,
            order=NEWEST_DELIVERIES_FIRST,
            first=first,
            after=after,
            max_page_size=info.context.services.settings.max_page_size,
            to_node=WebhookDelivery.from_document,
        )


@strawberry.type(description="A new endpoint and its signing secret, shown this once.")
class CreatedWebhookEndpoint:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(description="`whsec_...`: verify the `webhook-signature` header with it. Not shown again.")


@strawberry.type
class DeletedWebhookEndpoint:
    id: strawberry.ID


CreateWebhookEndpointResult = Annotated[
    CreatedWebhookEndpoint | ValidationError, strawberry.union("CreateWebhookEndpointResult")
]
UpdateWebhookEndpointResult = Annotated[
    WebhookEndpoint | ValidationError | NotFoundError, strawberry.union("UpdateWebhookEndpointResult")
]
DeleteWebhookEndpointResult = Annotated[
    DeletedWebhookEndpoint | NotFoundError, strawberry.union("DeleteWebhookEndpointResult")
]
RetryWebhookDeliveryResult = Annotated[WebhookDelivery | NotFoundError, strawberry.union("RetryWebhookDeliveryResult")]
