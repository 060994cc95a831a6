"""Store wiring: the one place that knows which MongoDB we talk to.

Everything else receives an async database handle with PyMongo's async API
(`AsyncDatabase`-shaped). With `SEGMENTS_MONGODB_URI` that handle comes from
`pymongo.AsyncMongoClient`; otherwise from mongoeco's in-process
`AsyncMongoClient`, which has the same method shapes (docs/decisions.md #1),
wrapped in the seam that turns the engine's slow shapes into fast ones
(api/embedded_store.py), unless `SEGMENTS_EMBEDDED_SEAM=off` asks for the
engine as it is: what the domain meets on a real MongoDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, cast

from api.settings import Settings
from rules.store.collections import ensure_indexes
from rules.store.types import Database, Document


@dataclass
class Store:
    client: object
    db: Database
    description: str
    _closer: Callable[[], Awaitable[None]] | None = None

    async def close(self) -> None:
        if self._closer is not None:
            await self._closer()


async def open_store(settings: Settings) -> Store:
    if settings.mongodb_uri:
        from pymongo import AsyncMongoClient

        client: AsyncMongoClient[Document] = AsyncMongoClient(settings.mongodb_uri, tz_aware=False)
        db = client[settings.database]
        await ensure_indexes(db)
        return Store(client=client, db=db, description="mongodb", _closer=client.close)

    from mongoeco import AsyncMongoClient as EmbeddedClient
    from mongoeco.engines.base import AsyncStorageEngine
    from mongoeco.engines.memory import MemoryEngine

    from api.embedded_sqlite import SharedFileSQLiteEngine, drop_scalar_index_copies
    from api.embedded_store import EmbeddedDatabase

    # No budget on the documents an aggregation materialises: mongoeco refuses a
    # `$group` or `$sort` over more than 50,000 input documents unless it may
    # spill, where MongoDB (allowDiskUse by default since 6.0) answers. At
    # 100,000 people every event condition's build and preview failed so
    # (docs/scaling.md, third session). mongoeco's spill is a round trip of
    # the same list through a temporary file, so it would cost time and save
    # no memory: the pipelines run in memory, as they did below the budget.
    engine: AsyncStorageEngine
    if settings.embedded_engine == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path = settings.data_dir / f"{settings.database}.sqlite"
        drop_scalar_index_copies(path)
        engine = SharedFileSQLiteEngine(path=str(path), aggregation_materialization_limit=None)
        description = f"embedded sqlite at {path}"
    else:
        engine = MemoryEngine(aggregation_materialization_limit=None)
        description = "embedded memory"
    embedded_client = EmbeddedClient(engine)
    await embedded_client.__aenter__()
    raw = embedded_client[settings.database]
    # Neither mongoeco's database nor the seam around it is an AsyncDatabase, though both have its
    # method shapes: these casts are the one place that says so to the type checker; everything
    # else is typed by PyMongo's own API.
    if settings.embedded_seam:
        # The engine's slow shapes are turned into fast ones behind this wrapper (api/embedded_store.py).
        embedded = cast(Database, EmbeddedDatabase(raw, engine=settings.embedded_engine))
    else:
        embedded = cast(Database, raw)
        description += ", without the seam"
    await ensure_indexes(embedded)

    async def close() -> None:
        await embedded_client.__aexit__(None, None, None)

    return Store(client=embedded_client, db=embedded, description=description, _closer=close)
