"""The official `customerio` Python SDK, unmodified, against `segments serve` over TLS.

The SDK builds only `https://` URLs. Two ways a user gets TLS: `segments
serve --self-signed` (a local CA under the data directory, trusted through
REQUESTS_CA_BUNDLE) and SEGMENTS_TLS_CERT/SEGMENTS_TLS_KEY with a
certificate of their own (here one from a throwaway CA made by trustme).
"""

from __future__ import annotations

import json
import ssl

import httpx
import pytest
import trustme
from customerio import CustomerIO

from tests.acceptance.test_shared_sqlite_store import ServeProcess

PEOPLE = """{ person(email: "ada@example.com") { id attributes events(first: 5) { edges { node { name data } } } } }"""


def _sdk_round_trip(serve: ServeProcess, ca: str, monkeypatch) -> None:
    ws = json.loads(serve.cli("workspace", "create", "Acme").stdout)
    # How requests (under the SDK) trusts a CA; the SDK itself is used as shipped.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca)
    with CustomerIO(ws["siteId"], ws["trackApiKey"], host="127.0.0.1", port=serve.port, retries=0) as cio:
        cio.identify("ada", email="ada@example.com", plan="pro")
        cio.track("ada", "purchase", data={"amount": 25})
    found = httpx.post(
        f"{serve.base_url}/graphql",
        json={"query": PEOPLE},
        headers={"Authorization": f"Bearer {ws['appApiKey']}"},
        verify=ssl.create_default_context(cafile=ca),
    ).json()["data"]["person"]
    assert found["id"] == "ada" and found["attributes"]["plan"] == "pro"
    assert [edge["node"] for edge in found["events"]["edges"]] == [{"name": "purchase", "data": {"amount": 25}}]
    code, stderr = serve.stop()
    assert code == 0 and "Traceback" not in stderr, stderr


def test_python_sdk_over_self_signed_tls(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    ca = data_dir / "tls" / "ca.pem"
    serve = ServeProcess(data_dir, "--self-signed", https_ca=ca)
    try:
        with pytest.raises(httpx.ConnectError):  # not trusted without the CA
            httpx.get(f"{serve.base_url}/health")
        _sdk_round_trip(serve, str(ca), monkeypatch)
    finally:
        serve.stop()
    restarted = ServeProcess(data_dir, "--self-signed", https_ca=ca)
    try:  # the same CA stays valid across restarts
        assert httpx.get(f"{restarted.base_url}/health", verify=ssl.create_default_context(cafile=ca)).status_code == 200
    finally:
        restarted.stop()


def test_python_sdk_over_tls_with_a_given_certificate(tmp_path, monkeypatch):
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    cert, key, ca = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    issued.cert_chain_pems[0].write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(ca))
    serve = ServeProcess(tmp_path / "data", env={"SEGMENTS_TLS_CERT": str(cert), "SEGMENTS_TLS_KEY": str(key)}, https_ca=ca)
    try:
        _sdk_round_trip(serve, str(ca), monkeypatch)
    finally:
        serve.stop()


def test_half_a_tls_configuration_is_refused(tmp_path):
    env = {"SEGMENTS_TLS_CERT": str(tmp_path / "cert.pem")}
    with pytest.raises(AssertionError, match="set both"):
        ServeProcess(tmp_path / "data", env=env)
