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
from typing import Any

from api.settings import Settings
from rules.store.collections import ensure_indexes


@dataclass
class Store:
    client: Any
    db: Any
    description: str
    _closer: Any = None

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
    db = client[settings.database]
    if settings.embedded_seam:
        db = EmbeddedDatabase(db, in_by_scan=settings.embedded_engine == "sqlite")
    else:
        description += ", without the seam"
    await ensure_indexes(db)

    async def close() -> None:
        await client.__aexit__(None, None, None)

    return Store(client=client, db=db, description=description, _closer=close)
