"""`createWebhookEndpoint`, `updateWebhookEndpoint`, `deleteWebhookEndpoint`,
`retryWebhookDelivery`: results are unions, errors are data."""

from __future__ import annotations

import strawberry

from resolvers.context import Info
from resolvers.errors import NotFoundError
from resolvers.segments.types import MembershipChangeKind, validation_error
from resolvers.webhooks.types import (
    CreatedWebhookEndpoint,
    CreateWebhookEndpointResult,
    DeletedWebhookEndpoint,
    DeleteWebhookEndpointResult,
    RetryWebhookDeliveryResult,
    UpdateWebhookEndpointResult,
    WebhookDelivery,
    WebhookEndpoint,
    webhooks,
)
from rules.membership.changefeed import ChangeKind
from rules.webhooks.endpoints import (
    DEFAULT_TIMEOUT_SECONDS,
    EndpointDraft,
    EndpointInvalid,
    EndpointNotFound,
    EndpointPatch,
)


@strawberry.input
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="http:// or https://; never this service's own address.")
    segment_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Absent: every segment, present and future.")
    kinds: list[MembershipChangeKind] = strawberry.field(default_factory=lambda: list(ChangeKind))
    enabled: bool = True
    timeout_seconds: float = strawberry.field(default=DEFAULT_TIMEOUT_SECONDS, description="Per attempt, 1 to 30.")


@strawberry.input(description="Fields to change; absent fields stay as they are.")
class UpdateWebhookEndpointInput:
    url: str | None = None
    segment_ids: list[strawberry.ID] | None = None
    follow_all_segments: bool = strawberry.field(default=False, description="Follow every segment instead of segmentIds.")
    kinds: list[MembershipChangeKind] | None = None
    enabled: bool | None = strawberry.field(default=None, description="true again after the service disabled it: resumes where it stopped.")
    timeout_seconds: float | None = None


def _not_found(endpoint_id: str) -> NotFoundError:
    return NotFoundError(message=f"webhook endpoint {endpoint_id!r} does not exist in this workspace")


def _ids(ids: list[strawberry.ID] | None) -> list[str] | None:
    return None if ids is None else [str(i) for i in ids]


@strawberry.type
class WebhooksMutation:
    @strawberry.mutation(description="Creates an endpoint; the result carries its signing secret, shown only this once.")
    async def create_webhook_endpoint(self, info: Info, input: CreateWebhookEndpointInput) -> CreateWebhookEndpointResult:
        draft = EndpointDraft(
            url=input.url,
            segment_ids=_ids(input.segment_ids),
            kinds=[ChangeKind(k) for k in input.kinds],
            enabled=input.enabled,
            timeout_seconds=input.timeout_seconds,
        )
        try:
            endpoint, secret = await webhooks(info).endpoints.create(info.context.workspace.id, draft, now=info.context.now)
        except EndpointInvalid as invalid:
            return validation_error(invalid.problems, prefix="/input")
        return CreatedWebhookEndpoint(endpoint=WebhookEndpoint.from_record(endpoint), secret=secret)

    @strawberry.mutation
    async def update_webhook_endpoint(
        self, info: Info, id: strawberry.ID, input: UpdateWebhookEndpointInput
    ) -> UpdateWebhookEndpointResult:
        patch = EndpointPatch(
            url=input.url,
            segment_ids=_ids(input.segment_ids),
            follow_all_segments=input.follow_all_segments,
            kinds=None if input.kinds is None else [ChangeKind(k) for k in input.kinds],
            enabled=input.enabled,
            timeout_seconds=input.timeout_seconds,
        )
        try:
            endpoint = await webhooks(info).endpoints.update(info.context.workspace.id, str(id), patch, now=info.context.now)
        except EndpointNotFound:
            return _not_found(str(id))
        except EndpointInvalid as invalid:
            return validation_error(invalid.problems, prefix="/input")
        return WebhookEndpoint.from_record(endpoint)

    @strawberry.mutation(description="Deletes the endpoint and its delivery records.")
    async def delete_webhook_endpoint(self, info: Info, id: strawberry.ID) -> DeleteWebhookEndpointResult:
        try:
            await webhooks(info).endpoints.delete(info.context.workspace.id, str(id))
        except EndpointNotFound:
            return _not_found(str(id))
        return DeletedWebhookEndpoint(id=id)

    @strawberry.mutation(description="Attempts a delivery again at once (e.g. a FAILED one) and returns it with the new attempt.")
    async def retry_webhook_delivery(self, info: Info, id: strawberry.ID) -> RetryWebhookDeliveryResult:
        delivery = await webhooks(info).dispatcher.retry_now(info.context.workspace.id, str(id))
        if delivery is None:
            return NotFoundError(message=f"webhook delivery {str(id)!r} does not exist in this workspace")
        return WebhookDelivery.from_document(delivery)
