"""The official `customerio` Python SDK (3.2.0), unchanged, against the running service."""

from __future__ import annotations

from urllib.parse import urlsplit

from customerio import CustomerIO
from customerio.constants import EMAIL, ID

from tests.acceptance.track_scenario import BATCH, CREATED_AT, LAST_USED, check_graphql, check_store


def test_python_sdk_scenario(tls_server):
    server = tls_server
    ws = server.create_workspace()
    address = urlsplit(server.base_url)
    with CustomerIO(ws["siteId"], ws["trackApiKey"], host=address.hostname, port=address.port, retries=0) as cio:
        cio.identify("u1", email="u1@example.com", plan="pro", created_at=CREATED_AT)
        cio.track("u1", "purchase", data={"amount": 25}, id="evt-1")
        cio.track("u1", "purchase", data={"amount": 25}, id="evt-1")  # a retry: de-duplicated
        cio.pageview("u1", "/offers/7")
        cio.add_device("u1", "tok-1", "ios", last_used=LAST_USED, app_version="2.0")
        cio.add_device("u1", "tok-2", "android")
        cio.delete_device("u1", "tok-2")
        cio.identify("u2", email="u2@example.com", city="Oslo")
        cio.track("u2", "signed_in")
        cio.merge_customers(ID, "u1", EMAIL, "u2@example.com")
        cio.identify("u3", plan="free")
        cio.suppress("u3")
        cio.identify("u4")
        cio.delete("u4")
        cio.track_anonymous("anon-1", "viewed_pricing", data={"source": "ad"})
        cio.batch(BATCH)
    check_store(server, ws)
    check_graphql(server, ws)
