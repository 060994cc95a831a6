"""The service over https with a throwaway CA, for the official Customer.io SDKs.

The Python SDK builds `https://host:port/...` URLs for its v2 batch call, so
the acceptance server speaks TLS; the CA is trusted through the standard
environment variables of each client (requests, httpx, Node.js).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import trustme

NODE_DIR = Path(__file__).parent / "node"

# Helpful assertion messages in the shared scenario checks.
pytest.register_assert_rewrite("tests.acceptance.track_scenario")

from rules.clock import SystemClock
from tests.conftest import make_settings, start_server


@pytest.fixture
def tls_server(tmp_path, monkeypatch):
    ca = trustme.CA()
    server_pem = tmp_path / "server.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(server_pem))
    ca_pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    for variable in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"):
        monkeypatch.setenv(variable, str(ca_pem))
    running, stop = start_server(make_settings(), SystemClock(), ssl_certfile=str(server_pem), ssl_keyfile=str(server_pem))
    try:
        yield running
    finally:
        stop()


@pytest.fixture
def node() -> str:
    """The `node` binary, with customerio-node installed in tests/acceptance/node."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the customerio-node acceptance tests"
    assert (NODE_DIR / "node_modules" / "customerio-node").is_dir(), "run `make test` (it installs tests/acceptance/node)"
    return node
