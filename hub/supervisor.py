"""``hub serve --workers N``: a parent process that runs N hub processes on one port.

Each worker is a whole ``hub serve`` (its own event loop, database pool and bus
connection) listening with ``SO_REUSEPORT``, so the kernel spreads new connections over
them. The parent serves nothing: it starts the workers, restarts one that dies after it
was up, and on ``SIGTERM`` or ``SIGINT`` passes ``SIGTERM`` on and waits for every worker
to finish its requests (then kills what is left). A worker whose parent is gone (killed
with ``SIGKILL``, which it cannot pass on) stops itself the same way.

Several processes need a database they can all write to and a bus that carries realtime
events between them, so ``refusal`` names what is missing on SQLite or a memory bus.
Jobs that must not run twice at once take a PostgreSQL advisory lock
(``hub.store.job_lock``); the rest are safe in every process (docs/configuration.md,
"Several processes").
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType

from hub.settings import Settings

log = logging.getLogger("hub.supervisor")

# A worker that dies sooner than this after its start did not start (a port taken, a
# bad setting): restarting it would only loop, so the whole hub stops.
STARTUP_SECONDS = 10.0
# How often the parent looks at its workers.
WATCH_SECONDS = 0.2
# Beyond the workers' own shutdown timeout, how long they get to exit before a kill.
EXIT_MARGIN_SECONDS = 5.0
# How often a worker looks whether its supervisor is still there.
PARENT_CHECK_SECONDS = 1.0


def refusal(settings: Settings, workers: int) -> str | None:
    """Why ``workers`` processes cannot serve with ``settings``; ``None`` when they can."""
    if workers < 2:
        return None
    if settings.is_sqlite:
        return (
            f"--workers {workers} needs PostgreSQL: SQLite takes one writer at a time, so "
            "several processes would only wait for each other. Use --workers 1, or set "
            "HUB_DATABASE_URL=postgresql://…"
        )
    if not settings.bus_url.startswith(("redis://", "rediss://")):
        return (
            f"--workers {workers} needs the Redis bus, so that realtime events reach the "
            "agents connected to every process: set HUB_BUS_URL=redis://…"
        )
    return None


def worker_command(host: str, port: int) -> list[str]:
    """The command of one worker: ``hub serve`` on ``host:port``, supervised by this
    process."""
    return [
        sys.executable,
        "-c",
        "from hub.cli import main; main()",
        "serve",
        "--host",
        host,
        "--port",
        str(port),
        "--supervisor-pid",
        str(os.getpid()),
    ]


def follow_supervisor(pid: int) -> None:
    """Stop this worker (a ``SIGTERM`` to itself: the usual graceful shutdown) once its
    supervisor ``pid`` is no longer its parent. A supervisor killed with ``SIGKILL`` never
    passes a signal on: without this its workers would keep serving the port, beside the
    hub started again in its place."""

    def watch() -> None:
        while os.getppid() == pid:
            time.sleep(PARENT_CHECK_SECONDS)
        log.warning("the supervisor (pid %d) is gone: stopping this worker", pid)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="hub-follow-supervisor", daemon=True).start()


class Supervisor:
    """Run ``workers`` copies of ``command`` until told to stop."""

    def __init__(self, command: Sequence[str], workers: int, shutdown_timeout: float) -> None:
        self.command = list(command)
        self.workers = workers
        self.shutdown_timeout = shutdown_timeout
        self.children: dict[int, subprocess.Popen[bytes]] = {}
        self.started: dict[int, float] = {}
        self.stopping = False

    def _start(self, index: int) -> None:
        # In a process group of its own: a Ctrl-C at the terminal reaches the parent only,
        # which passes one SIGTERM on (a second signal would cut a worker's shutdown short).
        self.children[index] = subprocess.Popen(self.command, process_group=0)  # noqa: S603
        self.started[index] = time.monotonic()
        log.info("worker %d started (pid %d)", index, self.children[index].pid)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping the workers", signal.Signals(signum).name)
        self.stopping = True

    def run(self) -> int:
        """Start the workers, watch them, stop them on a signal; the exit status."""
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        status = 0
        for index in range(self.workers):
            self._start(index)
        while not self.stopping:
            for index, child in list(self.children.items()):
                code = child.poll()
                if code is None:
                    continue
                if time.monotonic() - self.started[index] < STARTUP_SECONDS:
                    log.error("worker %d exited with status %d while starting", index, code)
                    status, self.stopping = 1, True
                    break
                log.warning("worker %d (pid %d) exited with status %d", index, child.pid, code)
                self._start(index)
            time.sleep(WATCH_SECONDS)
        self._stop_all()
        return status

    def _stop_all(self) -> None:
        """SIGTERM every worker still running, wait for them, kill the late ones."""
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.shutdown_timeout + EXIT_MARGIN_SECONDS
        for index, child in self.children.items():
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("worker %d (pid %d) did not stop in time: killed", index, child.pid)
                child.kill()
                child.wait()
