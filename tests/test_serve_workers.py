"""``hub serve --workers N``: N processes on one port under a supervisor that stops them
on SIGTERM; refused where several processes cannot work (SQLite, no Redis bus)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HUB = str(Path(sys.executable).parent / "hub")
REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    return env | {"HUB_LOG_LEVEL": "WARNING", "HUB_SECRET_KEY": "test-secret-" + "x" * 40} | extra


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_several_workers_are_refused_on_sqlite(tmp_path: Path) -> None:
    result = subprocess.run(
        [HUB, "serve", "--workers", "2"],
        env=clean_env(HUB_DATA_DIR=str(tmp_path), HUB_BUS_URL=REDIS_URL),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "--workers 2 needs PostgreSQL: SQLite takes one writer at a time" in result.stderr
    assert not (tmp_path / "hub.db").exists()  # refused before touching anything


def test_several_workers_are_refused_without_the_redis_bus(tmp_path: Path) -> None:
    # Refused before connecting: the database need not even exist.
    result = subprocess.run(
        [HUB, "serve", "--workers", "3"],
        env=clean_env(
            HUB_DATA_DIR=str(tmp_path),
            HUB_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "--workers 3 needs the Redis bus" in result.stderr
    assert "HUB_BUS_URL=redis://" in result.stderr


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def socket_inodes(pid: int) -> set[str]:
    """The inodes of the sockets ``pid`` holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def sockets_on(port: int, state: str) -> set[str]:
    """The inodes of the sockets bound to local ``port`` in ``state`` (01: established,
    0A: listening)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == state:
                inodes.add(fields[9])
    return inodes


def healthz(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status
    except OSError:
        return 0
    finally:
        conn.close()


@pytest.fixture
def pg_url(db_url: str) -> Iterator[str]:
    """The test's PostgreSQL database (emptied afterwards, as every ``db_url``)."""
    if not db_url.startswith("postgresql") or not sys.platform.startswith("linux"):
        pytest.skip("needs PostgreSQL and Linux's /proc")
    yield db_url


def start(database_url: str, tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = clean_env(
        HUB_DATA_DIR=str(tmp_path),
        HUB_DATABASE_URL=database_url,
        HUB_BUS_URL=REDIS_URL,
        HUB_SHUTDOWN_TIMEOUT="5",
    )
    return subprocess.Popen(
        [HUB, "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_served(parent: subprocess.Popen[str], port: int) -> float:
    """Wait for a worker to answer on ``port``; the deadline the caller may keep using."""
    deadline = time.monotonic() + 120
    while healthz(port) != 200:
        assert parent.poll() is None, parent.communicate()
        assert time.monotonic() < deadline, "no worker answered in 120 s"
        time.sleep(0.2)
    return deadline


def test_two_workers_both_serve_the_port_and_stop_on_sigterm(pg_url: str, tmp_path: Path) -> None:
    port = free_port()
    parent = start(pg_url, tmp_path, port)
    try:
        deadline = wait_until_served(parent, port)
        workers = children(parent.pid)
        assert len(workers) == 2
        # Both workers listen, each on a socket of its own: wait for the slower one.
        while not all(socket_inodes(pid) & sockets_on(port, "0A") for pid in workers):
            assert time.monotonic() < deadline, "the second worker never listened"
            time.sleep(0.2)
        # Keep-alive connections, each answered 200; the kernel spreads new connections
        # over the listening sockets, so with 24 both workers hold some (all on one:
        # a chance of 2**-23).
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(24)]
        for conn in conns:
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
        served = sockets_on(port, "01")
        held = [socket_inodes(pid) & served for pid in workers]
        for conn in conns:
            conn.close()
        assert all(held), f"connections per worker: {[len(h) for h in held]}"
        assert sum(len(h) for h in held) == 24

        parent.send_signal(signal.SIGTERM)
        _, err = parent.communicate(timeout=60)
        assert parent.returncode == 0, err
        for pid in workers:
            assert (
                not Path(f"/proc/{pid}").exists()
                or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
            )
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_workers_that_cannot_start_stop_the_hub(pg_url: str, tmp_path: Path) -> None:
    # The port is taken by a socket without SO_REUSEPORT: no worker can listen on it.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        parent = start(pg_url, tmp_path, port)
        try:
            _, err = parent.communicate(timeout=120)
        finally:
            if parent.poll() is None:
                parent.kill()
                parent.wait()
    assert parent.returncode == 1
    assert "exited with status" in err and "while starting" in err


def test_workers_stop_when_their_supervisor_is_killed(pg_url: str, tmp_path: Path) -> None:
    """A SIGKILLed supervisor passes nothing on: its workers notice and stop gracefully,
    leaving the port free for a hub started again."""
    port = free_port()
    parent = start(pg_url, tmp_path, port)
    try:
        wait_until_served(parent, port)
        workers = children(parent.pid)
        assert len(workers) == 2
    finally:
        parent.kill()
        parent.wait()

    # Orphans: not this test's children, so wait for /proc to drop them (or a zombie).
    def alive(pid: int) -> bool:
        try:
            return "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 60
    while any(alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "the orphaned workers kept running"
        time.sleep(0.2)
    assert healthz(port) == 0
