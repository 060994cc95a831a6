"""What a request handler can reach: settings, the store, the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.settings import Settings
from rules.clock import Clock


@dataclass
class Services:
    settings: Settings
    store: Any  # api.store.Store
    clock: Clock
    # Long-lived components started in the lifespan (membership engine, ...).
    components: dict[str, Any] = field(default_factory=dict)

    @property
    def db(self) -> Any:
        return self.store.db
