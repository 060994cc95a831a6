"""Crash points for the fault tests.

`SEGMENTS_FAULT_POINT=<name>` in the environment of `segments serve` makes
the process kill itself with SIGKILL the first time it reaches
`fault_point(<name>)`: the tests in tests/fault/ crash the service exactly
in the gap between two writes and check what a restart makes of it. Unset
(always, outside those tests) this is one dictionary lookup. The names in
use are listed in docs/segments.md, "Crash safety".
"""

from __future__ import annotations

import os
import signal

FAULT_POINT_VARIABLE = "SEGMENTS_FAULT_POINT"


def fault_point(name: str) -> None:
    if os.environ.get(FAULT_POINT_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)
