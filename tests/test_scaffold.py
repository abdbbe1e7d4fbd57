"""``hub plugin new``: a scaffolded plugin installs, is discovered and passes its own tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from hub.scaffold.generate import ScaffoldError, scaffold

BIN = Path(sys.executable).parent


def run(args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run a command to completion; fail the test with its output unless it succeeds."""
    done = subprocess.run(
        args,
        cwd=cwd,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("HUB_")}, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def install(project: Path, site: Path) -> None:
    """Build and install ``project`` into ``site`` as pip does for a user."""
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(project),
        ]
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "module", "types_key"), [("channel", "channel", "types"), ("crm", "crm", "types")]
)
def test_a_scaffolded_plugin_installs_is_discovered_and_passes_its_own_tests(
    tmp_path: Path, kind: str, module: str, types_key: str
) -> None:
    run([str(BIN / "hub"), "plugin", "new", "acme_kit", "--kind", kind, "--dest", str(tmp_path)])
    project = tmp_path / "hub-acme-kit"
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert meta["name"] == "hub-acme-kit"
    assert meta["entry-points"]["hub"] == {"acme_kit": f"hub_acme_kit.{module}"}
    site = tmp_path / "site"
    install(project, site)
    assert (site / "hub_acme_kit" / "logo.svg").is_file()

    listed = json.loads(
        run([str(BIN / "hub"), "plugins", "list", "--json"], env={"PYTHONPATH": str(site)})
    )
    [plugin] = [p for p in listed if p["name"] == "acme_kit"]
    assert (plugin["kind"], plugin["status"], plugin[types_key]) == (kind, "ok", ["acme_kit"])

    # The pytest script (not ``python -m``) keeps the source folder off sys.path: the
    # tests import the installed copy, found through PYTHONPATH like any installed plugin.
    outcome = run(
        [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", "-rs"],
        cwd=project,
        env={"PYTHONPATH": str(site)},
    )
    assert " passed" in outcome and "failed" not in outcome and "error" not in outcome.lower()
    if kind == "channel":
        # Every check of the contract ran: none skipped.
        assert "skipped" not in outcome


@pytest.mark.slow
def test_the_command_refuses_an_invalid_name_and_an_existing_folder(tmp_path: Path) -> None:
    bad = subprocess.run(
        [
            str(BIN / "hub"),
            "plugin",
            "new",
            "Acme-Chat",
            "--kind",
            "channel",
            "--dest",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0 and "invalid plugin name 'Acme-Chat'" in bad.stderr
    assert list(tmp_path.iterdir()) == []
    scaffold("acme", "channel", tmp_path)
    marker = tmp_path / "hub-acme" / "README.md"
    marker.write_text("mine")
    again = subprocess.run(
        [str(BIN / "hub"), "plugin", "new", "acme", "--kind", "crm", "--dest", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode != 0 and "already exists" in again.stderr
    assert marker.read_text() == "mine"


@pytest.mark.parametrize("name", ["a", "1acme", "acme-chat", "Acme", "acme chat", "a" * 41, ""])
def test_invalid_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ScaffoldError, match="invalid plugin name"):
        scaffold(name, "channel", tmp_path)


def test_names_derive_package_distribution_and_classes(tmp_path: Path) -> None:
    root = scaffold("acme_chat2", "channel", tmp_path)
    assert root.name == "hub-acme-chat2"
    source = (root / "hub_acme_chat2" / "channel.py").read_text()
    assert "class AcmeChat2Channel(ChannelType[AcmeChat2Config]):" in source
    assert 'name = "acme_chat2"' in source
    assert "${" not in source
    assert sorted(p.name for p in (root / "tests").iterdir()) == [
        "test_channel.py",
        "test_contract.py",
    ]


def test_a_crm_scaffold_has_a_crm_module_and_no_channel_module(tmp_path: Path) -> None:
    root = scaffold("acme", "crm", tmp_path)
    package = root / "hub_acme"
    assert (package / "crm.py").is_file() and not (package / "channel.py").exists()
    assert {p.name for p in package.iterdir()} >= {"config.py", "logo.svg", "py.typed"}
