"""Store wiring: the one place that knows which MongoDB we talk to.

Everything else receives an async database handle with PyMongo's async API
(`AsyncDatabase`-shaped). With `SEGMENTS_MONGODB_URI` that handle comes from
`pymongo.AsyncMongoClient`; otherwise from mongoeco's in-process
`AsyncMongoClient`, which has the same method shapes. See README
"Why the embedded store is in-process" for the measurements behind this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.settings import Settings
from rules.store.collections import BatchLookup, ensure_indexes


@dataclass
class Store:
    client: Any
    db: Any
    description: str
    _closer: Any = None
    # How DataLoaders read many keys at once here (rules.store.collections.find_grouped).
    batch_lookup: BatchLookup = BatchLookup.IN_QUERY

    async def close(self) -> None:
        if self._closer is not None:
            await self._closer()


async def open_store(settings: Settings) -> Store:
    if settings.mongodb_uri:
        from pymongo import AsyncMongoClient

        client = AsyncMongoClient(settings.mongodb_uri, tz_aware=False)
        db = client[settings.database]
        await ensure_indexes(db)
        return Store(client=client, db=db, description="mongodb", _closer=client.close)

    from mongoeco import AsyncMongoClient as EmbeddedClient
    from mongoeco.engines.memory import MemoryEngine

    from api.embedded_sqlite import SharedFileSQLiteEngine, drop_scalar_index_copies
    from api.embedded_store import EmbeddedDatabase

    if settings.embedded_engine == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path = settings.data_dir / f"{settings.database}.sqlite"
        drop_scalar_index_copies(path)
        engine = SharedFileSQLiteEngine(path=str(path))
        description = f"embedded sqlite at {path}"
    else:
        engine = MemoryEngine()
        description = "embedded memory"
    client = EmbeddedClient(engine)
    await client.__aenter__()
    # The engine's slow shapes are turned into fast ones behind this wrapper (api/embedded_store.py).
    db = EmbeddedDatabase(client[settings.database])
    await ensure_indexes(db)

    async def close() -> None:
        await client.__aexit__(None, None, None)

    lookup = BatchLookup.SCAN if settings.embedded_engine == "sqlite" else BatchLookup.PER_KEY
    return Store(client=client, db=db, description=description, _closer=close, batch_lookup=lookup)
