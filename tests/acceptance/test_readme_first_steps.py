"""README "First steps", pasted into bash as a reader would.

The block runs as written, with two differences a reader does not have:
the port is a free one instead of 8000 (others may be serving on 8000) and
the data directory is the test's own. It starts `make run &` itself; the
test stops that server afterwards.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

from tests.conftest import _free_port

ROOT = Path(__file__).resolve().parents[2]


def _first_steps() -> str:
    section = ROOT.joinpath("README.md").read_text().split("## First steps", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def _json_objects(text: str) -> list[dict]:
    """The JSON objects curl printed (one after the other, without newlines), in order."""
    decoder, objects = json.JSONDecoder(), []
    for line in text.splitlines():
        position = 0
        while line.startswith("{", position):
            value, position = decoder.raw_decode(line, position)
            objects.append(value)
    return objects


def test_first_steps_run_when_pasted(tmp_path):
    port = _free_port()
    script = _first_steps().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    env = {**os.environ, "SEGMENTS_PORT": str(port), "SEGMENTS_DATA_DIR": str(tmp_path / "data"), "SEGMENTS_EMBEDDED_ENGINE": "sqlite"}
    env.pop("SEGMENTS_MONGODB_URI", None)
    out_path, err_path = tmp_path / "stdout", tmp_path / "stderr"
    # Files, not pipes: `make run &` keeps its output open after the shell is done.
    with out_path.open("w") as out, err_path.open("w") as err:
        shell = subprocess.Popen(["bash", "-e", "-c", script], cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True)
        try:
            shell.wait(timeout=600)
        finally:
            # `make run &` keeps serving in the shell's process group.
            try:
                os.killpg(shell.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
    assert shell.returncode == 0, err_path.read_text()
    replies = _json_objects(out_path.read_text())
    assert replies[0] == replies[1] == {}  # the two Track API calls
    assert replies[2]["data"]["createSegment"]["state"] in ("BUILDING", "READY")
    person = replies[3]["data"]["person"]
    assert person["cioId"] and isinstance(person["segments"], list)
