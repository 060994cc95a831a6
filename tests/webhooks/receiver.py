"""A webhook receiver for tests: a real HTTP server on 127.0.0.1 that
verifies every request with the `standardwebhooks` package, as a customer's
receiver would, and records what it accepted."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver:
    """`status_for(n)` answers the n-th request (0-based); 200 by default."""

    def __init__(self, port: int | None = None, *, delay: float = 0.0) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.secret: str | None = None
        self.status_for: Callable[[int], int] = lambda n: 200
        self.delay = delay
        self.requests = 0
        self.accepted: list[dict[str, Any]] = []  # verified bodies answered with 2xx, in arrival order
        self.message_ids: list[str] = []
        self.rejected_signatures = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with receiver._lock:
                    n = receiver.requests
                    receiver.requests += 1
                try:
                    payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                except WebhookVerificationError:
                    with receiver._lock:
                        receiver.rejected_signatures += 1
                    self._answer(400)
                    return
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.status_for(n)
                if 200 <= status < 300:
                    with receiver._lock:
                        receiver.accepted.append(payload)
                        receiver.message_ids.append(self.headers["webhook-id"])
                self._answer(status)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def changes(self) -> list[dict[str, Any]]:
        """Every change accepted, de-duplicated on changeId (first arrival kept), in arrival order."""
        with self._lock:
            bodies = list(self.accepted)
        seen: set[str] = set()
        unique = []
        for body in bodies:
            for change in body["data"]:
                if change["changeId"] not in seen:
                    seen.add(change["changeId"])
                    unique.append(change)
        return unique

    def wait_for(self, condition: Callable[[], bool], timeout: float = 30, what: str = "changes") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}; received {len(self.changes())} changes"
            time.sleep(0.05)


def per_person_sequences(changes: list[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """(segment id, person cioId) -> kinds in arrival order."""
    sequences: dict[tuple[str, str], list[str]] = {}
    for change in changes:
        sequences.setdefault((change["segment"]["id"], change["person"]["cioId"]), []).append(change["kind"])
    return sequences


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
