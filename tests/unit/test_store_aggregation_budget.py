"""The embedded store answers pipelines over any number of documents, as
MongoDB does. mongoeco's engines refuse a `$group` or `$sort` over more than
50,000 input documents by default; at 100,000 people that failed every event
condition's build and preview (api/store.py, docs/scaling.md). Filling a
store past 50,000 documents takes 20-60 s here, so this checks the engine
the store opens rather than a pipeline over 50,001 documents (measured by
`make bench-scale ARGS="--people 100000"`)."""

from __future__ import annotations

import pytest
from mongoeco.engines.memory import MemoryEngine

from api.settings import Settings
from api.store import open_store


def test_mongoecos_own_default_has_the_budget():
    assert MemoryEngine().aggregation_cost_policy.max_materialized_documents == 50_000


@pytest.mark.parametrize("engine", ["memory", "sqlite"])
async def test_the_store_opens_its_engine_without_an_aggregation_budget(engine, tmp_path):
    store = await open_store(Settings(embedded_engine=engine, database="aggregation_budget", data_dir=tmp_path))
    try:
        assert store.client._engine.aggregation_cost_policy is None
    finally:
        await store.close()
