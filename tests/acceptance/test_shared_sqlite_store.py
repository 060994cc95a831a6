"""`segments serve` and the CLI as separate processes on one embedded sqlite file.

Real processes, as a user runs them: the server is a `segments serve`
subprocess, the CLI runs `segments demo`/`workspace create` beside it, and
this test process takes the write lock itself when it needs another writer
that holds the lock for longer than the engine's old 5 s wait.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import _free_port

SEGMENTS = str(Path(sys.executable).with_name("segments"))


class ServeProcess:
    """`segments serve` in a subprocess on the embedded sqlite store under `data_dir`.

    `https_ca`: serve https (with `serve_args` or `env` saying how) and check it with this CA file."""

    def __init__(self, data_dir: Path, *serve_args: str, env: dict[str, str] | None = None, https_ca: Path | None = None) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.env = {**os.environ, "SEGMENTS_DATA_DIR": str(data_dir), "SEGMENTS_PORT": str(self.port), "SEGMENTS_EMBEDDED_ENGINE": "sqlite", **(env or {})}
        self.env.pop("SEGMENTS_MONGODB_URI", None)
        self.base_url = f"{'https' if https_ca else 'http'}://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([SEGMENTS, "serve", *serve_args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.process.communicate()[1]
            try:
                # The CA file appears when the server makes its certificate, before it listens.
                if https_ca is None or https_ca.exists():
                    verify = ssl.create_default_context(cafile=https_ca) if https_ca else True
                    if httpx.get(f"{self.base_url}/health", timeout=5, verify=verify).status_code == 200:
                        break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "segments serve did not answer /health"
            time.sleep(0.1)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([SEGMENTS, *args], env=self.env, capture_output=True, text=True, timeout=300)

    def stop(self) -> tuple[int, str]:
        """Ctrl-C, as in a terminal: the exit code and everything on stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            _, stderr = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        return self.process.returncode, stderr


@pytest.fixture
def serve(tmp_path):
    running = ServeProcess(tmp_path / "data")
    yield running
    running.stop()


def _identify(client: httpx.Client, n: int) -> int:
    return client.put(f"/api/v1/customers/p{n}", json={"email": f"p{n}@example.com", "plan": "pro"}).status_code


def test_a_write_waits_for_another_process_holding_the_lock(serve):
    ws = json.loads(serve.cli("workspace", "create", "Acme").stdout)
    locked = threading.Event()

    def hold_write_lock() -> None:
        # Longer than the 5 s a connection used to wait before "database is locked".
        other = sqlite3.connect(serve.data_dir / "segments.sqlite", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(7)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=hold_write_lock)
    holder.start()
    locked.wait(10)
    with httpx.Client(base_url=serve.base_url, auth=(ws["siteId"], ws["trackApiKey"]), timeout=120) as track:
        started = time.monotonic()
        assert _identify(track, 1) == 200
        waited = time.monotonic() - started
    holder.join()
    assert waited > 1, "the request should have waited for the lock"
    code, stderr = serve.stop()
    assert code == 0 and "Traceback" not in stderr and "locked" not in stderr, stderr


def test_track_api_keeps_answering_while_the_cli_loads_demo_data(serve):
    ws = json.loads(serve.cli("workspace", "create", "Acme").stdout)
    demo = subprocess.Popen([SEGMENTS, "demo", "--people", "400"], env=serve.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    statuses: list[int] = []
    with httpx.Client(base_url=serve.base_url, auth=(ws["siteId"], ws["trackApiKey"]), timeout=120) as track:
        while demo.poll() is None:
            statuses.append(_identify(track, len(statuses)))
        demo_out, demo_err = demo.communicate()
        statuses.append(_identify(track, len(statuses)))
    assert demo.returncode == 0, demo_err
    assert json.loads(demo_out)["loaded"]["people"] == 400
    assert len(statuses) >= 3 and set(statuses) == {200}, statuses
    code, stderr = serve.stop()
    assert code == 0 and "Traceback" not in stderr and "locked" not in stderr, stderr


def test_the_sqlite_file_is_a_small_multiple_of_the_data(tmp_path):
    data_dir = tmp_path / "data"
    env = {**os.environ, "SEGMENTS_DATA_DIR": str(data_dir), "SEGMENTS_EMBEDDED_ENGINE": "sqlite"}
    env.pop("SEGMENTS_MONGODB_URI", None)
    loaded = subprocess.run([SEGMENTS, "demo", "--people", "500"], env=env, capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    database = data_dir / "segments.sqlite"
    on_disk = sum(path.stat().st_size for path in data_dir.iterdir())
    with sqlite3.connect(database) as connection:
        (documents,) = connection.execute("SELECT sum(length(document)) FROM documents").fetchone()
    # The stock engine wrote 31 times the documents' size (21 copies of its index table).
    assert on_disk < 8 * documents, (on_disk, documents)
