"""``hub --help`` and commands that need no web server load neither the web stack nor
the database's asyncio layer (lazy imports in ``hub.cli``: start-up in issue 18)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("aiohttp", "sqlalchemy", "sqlalchemy.ext.asyncio", "httpx", "alembic", "hub.app")


def modules_after(code: str) -> set[str]:
    """The heavy modules loaded once ``code`` has run in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    return loaded & set(HEAVY)


def test_importing_the_cli_loads_nothing_heavy() -> None:
    assert modules_after("import hub.cli") == set()


def test_help_runs_without_loading_anything_heavy() -> None:
    code = (
        "import contextlib, io, sys\n"
        "from hub.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit as end:\n"
        "        assert end.code == 0, end.code\n"
        "assert 'serve' in out.getvalue()\n"
    )
    assert modules_after(code) == set()


def test_the_version_is_read_when_asked_for() -> None:
    from importlib.metadata import version

    import hub

    assert hub.__version__ == version("inbox-hub")


def test_plugins_list_loads_the_plugins_but_not_the_web_stack(tmp_path: Path) -> None:
    code = (
        "import contextlib, io, os\n"
        f"os.environ['HUB_DATA_DIR'] = {str(tmp_path)!r}\n"
        "from hub.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        "        main(['plugins', 'list'])\n"
        "    except SystemExit as end:\n"
        "        assert end.code == 0, end.code\n"
        "assert 'whatsapp' in out.getvalue()\n"
    )
    # httpx is the plugins' own HTTP client: they import it to list their types.
    assert modules_after(code) - {"httpx"} == set()
