"""How many malloc arenas the process keeps: the store's driver threads are the reason.

glibc gives each thread that allocates its own arena while there are fewer than eight
per core, and an arena keeps the memory it once held: every aiosqlite connection runs
in a thread of its own, so each connection's SQLite page cache, schema and result rows
grew an arena of their own, and the hub's resident memory with them (docs/performance.md,
"RSS"). Two arenas serve a process whose Python code runs under one lock anyway.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

# glibc's malloc.h: the parameter mallopt() sets for the most arenas a process creates.
M_ARENA_MAX = -8

# What `hub serve` uses unless the environment already says (MALLOC_ARENA_MAX, or
# glibc.malloc.arena_max in GLIBC_TUNABLES): the main thread's arena and one shared by
# the driver threads.
DEFAULT_ARENA_MAX = 2


def arena_max_from_environment() -> bool:
    """Whether the operator already chose the arena limit through glibc's environment."""
    return "MALLOC_ARENA_MAX" in os.environ or "arena_max" in os.environ.get("GLIBC_TUNABLES", "")


def limit_malloc_arenas(arenas: int = DEFAULT_ARENA_MAX) -> bool:
    """Cap the malloc arenas of this process at ``arenas``, unless the environment
    already sets the cap or the C library is not glibc; whether the cap was set here.

    Call it before the threads start (it applies to arenas created afterwards).
    """
    if arena_max_from_environment():
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):  # not glibc (musl, macOS): nothing to cap
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    if mallopt(M_ARENA_MAX, arenas) != 1:
        log.warning("mallopt(M_ARENA_MAX, %d) refused", arenas)
        return False
    return True
