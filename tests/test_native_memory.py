"""`hub serve` caps glibc's malloc arenas, so the store's driver threads (one per
aiosqlite connection) share them instead of each growing an arena of its own; an
operator's own MALLOC_ARENA_MAX wins. Counted with glibc's malloc_stats()."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from hub.store import native_memory

# Eight threads allocate at the same time, each holding its block until all have one,
# then glibc prints one "Arena N:" block per arena to stderr.
THREADS_ALLOCATING = textwrap.dedent(
    """
    import ctypes, ctypes.util, sys, threading
    from hub.store.native_memory import limit_malloc_arenas
    print(limit_malloc_arenas() if sys.argv[1] == "cap" else None)
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    barrier = threading.Barrier(8)
    def allocate():
        block = libc.malloc(64 * 1024)
        barrier.wait()
        barrier.wait()
        libc.free(ctypes.c_void_p(block))
    threads = [threading.Thread(target=allocate) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    libc.malloc_stats()
    """
)

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="malloc arenas are glibc's",
)


def arenas(mode: str, **env: str) -> tuple[str, int]:
    """What ``limit_malloc_arenas`` answered in a fresh process, and its arena count."""
    clean = {k: v for k, v in os.environ.items() if k not in ("MALLOC_ARENA_MAX", "GLIBC_TUNABLES")}
    done = subprocess.run(
        [sys.executable, "-c", THREADS_ALLOCATING, mode],
        env=clean | env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    count = sum(line.startswith("Arena ") for line in done.stderr.splitlines())
    return done.stdout.strip(), count


@glibc
def test_threads_share_two_arenas_once_capped() -> None:
    answered, capped = arenas("cap")
    assert answered == "True"
    assert capped == native_memory.DEFAULT_ARENA_MAX
    # Without the cap the same threads take arenas of their own (so the count above can fail).
    _, uncapped = arenas("none")
    assert uncapped > native_memory.DEFAULT_ARENA_MAX


@glibc
def test_the_operators_malloc_arena_max_wins() -> None:
    answered, count = arenas("cap", MALLOC_ARENA_MAX="4")
    assert answered == "False"
    assert count == 4
    answered, _ = arenas("cap", GLIBC_TUNABLES="glibc.malloc.arena_max=3")
    assert answered == "False"
