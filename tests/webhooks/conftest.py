"""A service on a fake clock that starts at the real time (receivers check
`webhook-timestamp` against their own clock; whole seconds, so that an
ISO `asOf` with microseconds names a change's moment exactly), polling the history often,
and a webhook receiver."""

from __future__ import annotations

import time

import pytest

from rules.clock import FakeClock
from tests.conftest import make_settings, start_server
from tests.webhooks.receiver import Receiver


@pytest.fixture
def service():
    running, stop = start_server(make_settings(change_poll_seconds=0.05), FakeClock(start=float(int(time.time()))))
    try:
        yield running
    finally:
        stop()


@pytest.fixture
def receiver():
    started = Receiver().start()
    try:
        yield started
    finally:
        started.stop()
