"""The store's types: what every `db` and collection parameter is.

Both stores answer PyMongo's async API. `SEGMENTS_MONGODB_URI` gives a real
`AsyncDatabase`; the embedded store gives a database with the same method
shapes, cast to these types in one place (api/store.py). Documents are plain dicts: the shapes
live in rules/store/documents.py, not in the type of the collection.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

Document = dict[str, Any]
Database = AsyncDatabase[Document]
Collection = AsyncCollection[Document]
