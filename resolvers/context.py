"""What every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from strawberry.types import Info as StrawberryInfo

from resolvers.errors import UserError
from resolvers.loaders import Loaders
from rules.clock import Clock
from rules.membership.engine import MembershipEngine
from rules.store.types import Database
from rules.webhooks.service import Webhooks
from rules.workspaces import Workspace


class ResolverSettings(Protocol):
    @property
    def max_page_size(self) -> int: ...
    @property
    def max_upload_bytes(self) -> int: ...


class ResolverStore(Protocol):
    @property
    def db(self) -> Database: ...


class Services(Protocol):
    """What resolvers reach of the running service: `api.services.Services`
    (a frozen dataclass built once in the lifespan) has it, which mypy checks
    where api/graphql_app.py builds the context; declared here so that
    resolvers never import the transport layer."""

    @property
    def settings(self) -> ResolverSettings: ...
    @property
    def store(self) -> ResolverStore: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def membership(self) -> MembershipEngine: ...
    @property
    def webhooks(self) -> Webhooks: ...
    @property
    def db(self) -> Database: ...


@dataclass(frozen=True, kw_only=True)
class Session:
    """The authenticated side of a context: whose data, and the loaders scoped to it."""

    workspace: Workspace
    loaders: Loaders


@dataclass(kw_only=True)
class Context:
    services: Services
    # An HTTP request is authenticated before its context exists. A websocket
    # may authenticate later, in its connection_init payload, which Strawberry
    # stores in `connection_params`; no operation runs before that.
    session: Session | None = None
    connection_params: dict[str, Any] | None = None

    @classmethod
    def create(cls, services: Services, workspace: Workspace | None, *, long_lived: bool = False) -> Context:
        context = cls(services=services)
        if workspace is not None:
            context.sign_in(workspace, long_lived=long_lived)
        return context

    def sign_in(self, workspace: Workspace, *, long_lived: bool) -> None:
        # A websocket lives for minutes: its loaders still batch but must not
        # serve what they cached earlier.
        loaders = Loaders.for_workspace(self.services.db, workspace.id, cache=not long_lived)
        self.session = Session(workspace=workspace, loaders=loaders)

    def _signed_in(self) -> Session:
        if self.session is None:
            raise UserError("not authenticated: send Authorization: Bearer <appApiKey>")
        return self.session

    @property
    def workspace(self) -> Workspace:
        """The caller's workspace; every query filters on `workspace.id`."""
        return self._signed_in().workspace

    @property
    def loaders(self) -> Loaders:
        return self._signed_in().loaders

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def now(self) -> float:
        """Unix seconds from the injected clock (fake in scenario tests)."""
        return self.services.clock.now()


Info = StrawberryInfo[Context, None]
