"""bench.spy_shares splits py-spy's collapsed stacks by whose code a sample is in."""

from bench.spy_shares import shares

RECORDING = [
    # the engine's thread inserting: the engine's, standard library under it included
    "_worker (concurrent/futures/thread.py:92);SQLiteEngine._insert_documents_sync (mongoeco/engines/sqlite.py:5825);dumps (json/__init__.py:238) 6",
    # our build calling the seam
    "run (asyncio/runners.py:118);MembershipEngine._compute_and_write (rules/membership/engine.py:338) 3",
    "run (asyncio/runners.py:118);load_people_data (rules/conditions/people_data.py:68);SeamCursor.__aiter__ (api/embedded_store.py:421) 1",
    # a pool thread waiting for work, and the event loop's select: left out
    "Thread.run (threading.py:992);_worker (concurrent/futures/thread.py:89) 40",
    "run_forever (asyncio/base_events.py:679);EpollSelector.select (selectors.py:452) 7",
    "not a stack line",
]


def test_samples_go_to_the_innermost_known_code_and_waits_are_left_out():
    owners, ours, waiting = shares(RECORDING)
    assert waiting == 47
    assert owners == {
        "store (mongoeco, sqlite3, bson)": 6,
        "ours: rules/": 3,
        "ours: the embedded seam (api/embedded_store.py)": 1,
    }
    assert ours == {
        "MembershipEngine._compute_and_write (/rules/membership/engine.py:338)": 3,
        "SeamCursor.__aiter__ (/api/embedded_store.py:421)": 1,
    }
