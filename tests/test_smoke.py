import httpx


def test_server_starts_and_reports_its_store(server):
    response = httpx.get(f"{server.base_url}/health")
    assert response.status_code == 200
    assert response.json()["ok"] is True


async def test_workspace_keys_authenticate_only_their_kind(db):
    from rules.workspaces import authenticate_app, authenticate_track, create_workspace

    created = await create_workspace(db, "Acme", now=1.0)
    ws = created.workspace
    assert (await authenticate_track(db, ws.site_id, created.track_api_key)).id == ws.id
    assert (await authenticate_app(db, created.app_api_key)).id == ws.id
    assert await authenticate_track(db, ws.site_id, created.app_api_key) is None
    assert await authenticate_app(db, created.track_api_key) is None
    assert await authenticate_track(db, "wrong-site", created.track_api_key) is None
    stored = [doc async for doc in db["api_keys"].find({})]
    assert all(created.track_api_key not in str(doc) and created.app_api_key not in str(doc) for doc in stored)
