"""The ``hub`` command line, run as a user runs it: a subprocess."""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth.accounts import authenticate
from hub.auth.api_tokens import resolve_token
from hub.serving import freeze_startup_heap
from hub.store import migrate
from tests.plugin_dists import write_dist

# Every test here starts `hub` (or pip) as a process.
pytestmark = pytest.mark.slow

HUB = str(Path(sys.executable).parent / "hub")
ROOT = Path(__file__).resolve().parent.parent


def hub(
    *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``hub`` with ``args``; ``env`` is added to a clean copy of the environment."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    full_env.update(env or {})
    return subprocess.run(
        [HUB, *args],
        env=full_env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def hub_env(tmp_path: Path, db_url: str) -> dict[str, str]:
    """Environment pointing ``hub`` at the test database."""
    return {
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_DATABASE_URL": db_url,
        "HUB_LOG_LEVEL": "WARNING",
    }


def test_plugins_list_prints_the_six_bundled_plugins() -> None:
    result = hub("plugins", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "VERSION", "DISTRIBUTION", "STATUS", "NOTE"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["whatsapp"] == ["whatsapp", "channel", "0.1.0", "inbox-hub-whatsapp", "ok"]
    assert rows["hubspot"] == ["hubspot", "crm", "0.1.0", "inbox-hub-hubspot", "ok"]
    assert rows["salesforce"] == ["salesforce", "crm", "0.1.0", "inbox-hub-salesforce", "ok"]
    assert rows["email"] == ["email", "channel", "0.1.0", "inbox-hub-email", "ok"]
    assert {"whatsapp", "telegram", "email", "custom_channel", "hubspot", "salesforce"} <= set(rows)


def test_plugins_list_reports_a_broken_plugin_and_still_lists_the_rest(tmp_path: Path) -> None:
    write_dist(tmp_path, "broken-plugin", "broken_plugin", "import no_such_module\n")
    result = hub("plugins", "list", env={"PYTHONPATH": str(tmp_path)})
    assert result.returncode == 0
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert rows["broken_plugin"][-1] == "broken"
    assert rows["whatsapp"][-1] == "ok"
    assert "broken_plugin: import failed: ModuleNotFoundError" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_example_plugin_is_built_installed_and_discovered(tmp_path: Path) -> None:
    target = tmp_path / "site"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT / "examples" / "echo_channel"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    result = hub("plugins", "list", "--json", env={"PYTHONPATH": str(target)})
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert len(plugins) == 7
    echo = plugins["echo"]
    assert (echo["kind"], echo["distribution"], echo["status"], echo["types"]) == (
        "channel",
        "hub-echo-channel",
        "ok",
        ["echo"],
    )
    assert echo["not_available"] == [] and plugins["email"]["not_available"] == []
    # The example's own test suite passes against the installed copy.
    own_tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(ROOT / "examples" / "echo_channel" / "tests"),
        ],
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert own_tests.returncode == 0, own_tests.stdout + own_tests.stderr
    assert " passed" in own_tests.stdout


async def test_user_create_generates_and_prints_a_working_password(
    hub_env: dict[str, str], db: async_sessionmaker[AsyncSession]
) -> None:
    result = hub(
        "user",
        "create",
        "--email",
        "Ann@Example.com",
        "--name",
        "Ann",
        "--role",
        "manager",
        "--visibility",
        "team",
        env=hub_env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "created manager ann@example.com"
    password = result.stdout.splitlines()[1].removeprefix("password: ")
    async with db() as session:
        user = await authenticate(session, "ann@example.com", password)
    assert user is not None
    assert (user.role, user.visibility) == ("manager", "team")


async def test_user_create_takes_the_password_from_stdin_and_does_not_print_it(
    hub_env: dict[str, str], db: async_sessionmaker[AsyncSession]
) -> None:
    result = hub(
        "user",
        "create",
        "--email",
        "bob@example.com",
        "--name",
        "Bob",
        env=hub_env,
        stdin="my own long password\n",
    )
    assert result.returncode == 0, result.stderr
    assert "my own long password" not in result.stdout
    async with db() as session:
        assert await authenticate(session, "bob@example.com", "my own long password") is not None


def test_user_create_refuses_a_bad_email_a_short_password_and_a_taken_email(
    hub_env: dict[str, str],
) -> None:
    bad = hub("user", "create", "--email", "not-an-email", "--name", "X", env=hub_env)
    assert bad.returncode != 0
    assert "email:" in bad.stderr and "Traceback" not in bad.stderr
    short = hub(
        "user", "create", "--email", "x@example.com", "--name", "X", env=hub_env, stdin="short\n"
    )
    assert short.returncode != 0 and "password:" in short.stderr
    assert (
        hub("user", "create", "--email", "x@example.com", "--name", "X", env=hub_env).returncode
        == 0
    )
    taken = hub("user", "create", "--email", "X@example.com", "--name", "X", env=hub_env)
    assert taken.returncode != 0 and "already exists" in taken.stderr


async def test_token_create_prints_only_a_working_token(
    hub_env: dict[str, str], db: async_sessionmaker[AsyncSession]
) -> None:
    assert (
        hub("user", "create", "--email", "bot@example.com", "--name", "Bot", env=hub_env).returncode
        == 0
    )
    result = hub("token", "create", "--email", "bot@example.com", env=hub_env)
    assert result.returncode == 0, result.stderr
    token = result.stdout
    assert token.count("\n") == 1 and token.startswith("hub_")
    async with db() as session:
        user = await resolve_token(session, token.strip())
    assert user is not None and user.email == "bot@example.com"


def test_token_create_for_an_unknown_user_fails_clearly(hub_env: dict[str, str]) -> None:
    result = hub("token", "create", "--email", "ghost@example.com", env=hub_env)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "no active user with email ghost@example.com" in result.stderr


def test_migrate_brings_a_fresh_sqlite_database_to_the_head_revision(tmp_path: Path) -> None:
    result = hub("migrate", env={"HUB_DATA_DIR": str(tmp_path / "fresh")})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"database at revision {migrate.head_revision()}"
    assert (tmp_path / "fresh" / "hub.db").exists()


async def test_serve_freezes_the_startup_heap_out_of_full_collections() -> None:
    class StartupObject:
        """Stands for what starting the hub allocates."""

    kept = [StartupObject() for _ in range(1000)]
    before = gc.get_freeze_count()
    gc.disable()  # as `hub serve` starts
    try:
        await freeze_startup_heap(web.Application())
        assert gc.get_freeze_count() >= before + len(kept)
        assert gc.isenabled()  # collections run again once the hub serves
    finally:
        gc.enable()
        gc.unfreeze()  # the rest of the test run collects as usual


SERVE_COUNTING_COLLECTIONS = """
import gc, os, signal, sys
from hub import cli, serving

collections = 0

def count(phase, info):
    global collections
    collections += phase == "start"

gc.callbacks.append(count)
freeze = serving.freeze_startup_heap

async def serving_started(app):
    print("collections while starting:", collections, flush=True)
    await freeze(app)
    print("collector on:", gc.isenabled(), flush=True)
    os.kill(os.getpid(), signal.SIGINT)

serving.freeze_startup_heap = serving_started
try:
    cli.main(["serve", "--port", sys.argv[1]])
except SystemExit:
    pass
print("collector on after serving:", gc.isenabled(), flush=True)
"""


def test_a_start_runs_no_collection_until_it_serves(tmp_path: Path, sqlite_template: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env |= {"HUB_DATA_DIR": str(tmp_path / "data"), "HUB_LOG_LEVEL": "WARNING"}
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "hub.db").write_bytes(sqlite_template.read_bytes())
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    result = subprocess.run(
        [sys.executable, "-c", SERVE_COUNTING_COLLECTIONS, port],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.splitlines()[-3:] == [
        "collections while starting: 0",
        "collector on: True",
        "collector on after serving: True",
    ], result.stderr


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``code`` run by a fresh interpreter, with no HUB_* setting but a data folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["HUB_DATA_DIR"] = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_a_refused_serve_leaves_the_collector_on(tmp_path: Path) -> None:
    code = (
        "import gc\n"
        "from hub.cli import main\n"
        "try:\n"
        "    main(['serve', '--workers', '2'])\n"
        "except SystemExit as end:\n"
        "    print(end.code, gc.isenabled())\n"
    )
    result = _python(code, tmp_path)
    assert "needs PostgreSQL" in result.stderr
    assert result.stdout.split() == ["1", "True"]


def test_a_command_runs_without_the_collector_and_turns_it_back_on(tmp_path: Path) -> None:
    code = (
        "import contextlib, gc, io\n"
        "from hub import plugin_manager\n"
        "from hub.cli import main\n"
        "load, seen = plugin_manager.load_plugins, []\n"
        "def loading(**options):\n"
        "    seen.append(gc.isenabled())\n"
        "    return load(**options)\n"
        "plugin_manager.load_plugins = loading\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['plugins', 'list'])\n"
        "    except SystemExit as end:\n"
        "        assert end.code == 0, end.code\n"
        "print(seen, gc.isenabled())\n"
    )
    result = _python(code, tmp_path)
    assert result.stdout.split() == ["[False]", "True"], result.stderr
