"""The inbox's websocket client (admin_ui/static/inbox/socket.js), checked by Node against
a fake WebSocket: ``after`` on reconnect, backoff, resync, 4401. Skipped without Node;
the browser tests drive the real thing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_socket_client_reconnects_after_its_last_event() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on PATH")
    done = subprocess.run(
        [node, str(ROOT / "tests" / "js" / "socket_check.mjs")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr or done.stdout
    assert "socket.js: ok" in done.stdout
