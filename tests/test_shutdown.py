"""`hub serve` as a real process: it starts, prints the setup link, and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HUB_BIN = str(Path(sys.executable).parent / "hub")
# Bounds, not expectations: a hub starts in a second or two, but a busy two-core CI
# machine was seen taking 10 s just to import it.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Hub:
    """A ``hub serve`` process with its output files."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    stdout: Path
    stderr: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return self.stdout.read_text()

    def log(self) -> str:
        return self.stderr.read_text()

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url(path), timeout=2) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"hub exited early with {self.process.returncode}:\n{self.log()}")
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass  # not listening yet
            time.sleep(0.1)  # poll interval, not a timing assumption
        pytest.fail(f"hub did not answer /healthz within {START_TIMEOUT}s:\n{self.log()}")

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=STOP_TIMEOUT)


@pytest.fixture
def start_hub(tmp_path: Path) -> Iterator[Callable[[str], Hub]]:
    """Start ``hub serve`` processes, each on its own port and data folder; kill leftovers."""
    started: list[Hub] = []

    def start(name: str) -> Hub:
        port = _free_port()
        data_dir = tmp_path / name / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env.update(
            {
                "HUB_DATA_DIR": str(data_dir),
                "HUB_PORT": str(port),
                "HUB_LOG_LEVEL": "INFO",
                # The plugins under development elsewhere are not what this test is about.
                "HUB_DISABLE_PLUGIN_AUTOLOAD": "true",
                "HUB_SHUTDOWN_TIMEOUT": "5",
            }
        )
        stdout, stderr = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        with stdout.open("wb") as out, stderr.open("wb") as err:
            process = subprocess.Popen(
                [HUB_BIN, "serve"], env=env, cwd=tmp_path, stdout=out, stderr=err
            )
        hub = Hub(process, port, data_dir, stdout, stderr)
        started.append(hub)
        return hub

    yield start
    for hub in started:
        if hub.process.poll() is None:
            hub.process.kill()
            hub.process.wait(timeout=STOP_TIMEOUT)


def test_hub_serve_prints_the_setup_link_and_stops_cleanly_on_sigterm(
    start_hub: Callable[[str], Hub],
) -> None:
    hub = start_hub("one")
    hub.wait_until_healthy()

    assert f"http://127.0.0.1:{hub.port}/setup?token=" in hub.output()
    status, _ = hub.get("/readyz")
    assert status == 200

    assert hub.terminate() == 0
    log = hub.log()
    assert "Inbox Hub stopped" in log
    assert "Traceback" not in log


def test_two_hubs_run_side_by_side_on_their_own_ports_and_data(
    start_hub: Callable[[str], Hub],
) -> None:
    first, second = start_hub("first"), start_hub("second")
    first.wait_until_healthy()
    second.wait_until_healthy()

    assert first.get("/readyz")[0] == 200
    assert second.get("/readyz")[0] == 200
    # Each has its own data folder: its own database and secret key.
    for hub in (first, second):
        assert (hub.data_dir / "hub.db").exists()
        assert (hub.data_dir / "secret_key").exists()
    assert (first.data_dir / "secret_key").read_text() != (
        second.data_dir / "secret_key"
    ).read_text()
    first_link = first.output().split("/setup?token=")[1].split()[0]
    second_link = second.output().split("/setup?token=")[1].split()[0]
    assert first_link != second_link

    # Stopping one leaves the other serving.
    assert first.terminate() == 0
    assert second.get("/healthz")[0] == 200
    assert second.terminate() == 0
    assert "Inbox Hub stopped" in first.log()
    assert "Inbox Hub stopped" in second.log()
