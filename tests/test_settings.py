"""Settings from ``HUB_*`` variables: defaults, parsing, one-line errors, the secret key."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from hub.settings import SECRET_KEY_FILE, Settings, SettingsError, ensure_secret_key, load_settings

HUB_BIN = str(Path(sys.executable).parent / "hub")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ``HUB_*`` variable of the caller leaks in; relative paths resolve in tmp_path."""
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_listen_on_8080_with_sqlite_in_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.port == 8080
    assert settings.host == "127.0.0.1"
    assert settings.data_dir == Path("./var")
    assert settings.database_url is None
    assert settings.effective_database_url == (
        f"sqlite+aiosqlite:///{tmp_path.resolve() / 'var' / 'hub.db'}"
    )
    assert settings.is_sqlite


def test_the_sqlite_file_follows_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "elsewhere")
    assert settings.effective_database_url == (
        f"sqlite+aiosqlite:///{(tmp_path / 'elsewhere' / 'hub.db').resolve()}"
    )


def test_hub_environment_variables_are_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HUB_PORT", "9123")
    monkeypatch.setenv("HUB_HOST", "0.0.0.0")
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.setenv("HUB_PUBLIC_URL", "https://inbox.example.com/")
    monkeypatch.setenv("HUB_LOG_FORMAT", "json")
    monkeypatch.setenv("HUB_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("HUB_DISABLE_PLUGIN_AUTOLOAD", "true")
    monkeypatch.setenv("HUB_PLUGINS_ALLOW", '["whatsapp", "telegram"]')

    settings = load_settings()

    assert settings.port == 9123
    assert settings.host == "0.0.0.0"
    assert settings.data_dir == tmp_path / "d"
    assert settings.public_url == "https://inbox.example.com"
    assert settings.base_url == "https://inbox.example.com"
    assert settings.log_format == "json"
    assert settings.max_body_bytes == 4096
    assert settings.disable_plugin_autoload is True
    assert settings.plugins_allow == ["whatsapp", "telegram"]


def test_explicit_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_PORT", "9123")
    assert load_settings(port=9999).port == 9999


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/hub", "postgresql+asyncpg://u:p@db:5432/hub"),
        ("postgresql://u:p@db/hub", "postgresql+asyncpg://u:p@db/hub"),
        ("postgresql+asyncpg://u@db/hub", "postgresql+asyncpg://u@db/hub"),
        ("sqlite+aiosqlite:////srv/hub.db", "sqlite+aiosqlite:////srv/hub.db"),
    ],
)
def test_database_urls_get_the_async_driver(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", given)
    settings = load_settings()
    assert settings.database_url == expected
    assert settings.effective_database_url == expected
    assert settings.is_sqlite is expected.startswith("sqlite")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HUB_DATABASE_URL", "mysql://u@db/hub"),
        ("HUB_DATABASE_URL", "sqlite:///hub.db"),
        ("HUB_PORT", "notanumber"),
        ("HUB_PORT", "0"),
        ("HUB_PORT", "65536"),
        ("HUB_PUBLIC_URL", "inbox.example.com"),
        ("HUB_PUBLIC_URL", "ftp://inbox.example.com"),
        ("HUB_SECRET_KEY", "too-short"),
        ("HUB_LOG_FORMAT", "xml"),
        ("HUB_MAX_BODY_BYTES", "12"),
    ],
)
def test_a_bad_setting_raises_settings_error_starting_with_its_name(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{name}: ")
    assert "\n" not in message


def test_a_settings_error_does_not_echo_the_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_SECRET_KEY", "hunter2-short")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "hunter2" not in str(caught.value)


def test_a_list_setting_that_is_not_json_raises_settings_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUB_PLUGINS_BLOCKED", "whatsapp")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("HUB_PLUGINS_BLOCKED: ")


def test_ensure_secret_key_generates_a_private_key_file_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    settings = Settings(data_dir=data_dir)

    first = ensure_secret_key(settings)

    path = data_dir / SECRET_KEY_FILE
    assert path.read_text().strip() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    # A second start (a new process: new Settings) reads the same key back.
    assert ensure_secret_key(Settings(data_dir=data_dir)) == first


@pytest.mark.parametrize("content", ["", "\n", "short"], ids=["empty", "newline", "short"])
def test_a_secret_key_file_too_short_to_be_a_key_is_never_used(
    tmp_path: Path, content: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / SECRET_KEY_FILE).write_text(content)
    try:
        key = ensure_secret_key(Settings(data_dir=data_dir))
    except SettingsError as err:
        assert SECRET_KEY_FILE in str(err)  # refusing, naming the file, is right too
        return
    assert len(key) >= 32


def test_ensure_secret_key_creates_a_private_data_folder(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    ensure_secret_key(Settings(data_dir=data_dir))
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


def test_ensure_secret_key_differs_between_data_folders(tmp_path: Path) -> None:
    one = ensure_secret_key(Settings(data_dir=tmp_path / "one"))
    two = ensure_secret_key(Settings(data_dir=tmp_path / "two"))
    assert one != two


def test_ensure_secret_key_uses_hub_secret_key_without_writing_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = "given-by-the-operator-" + "z" * 20
    monkeypatch.setenv("HUB_SECRET_KEY", key)
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings()

    assert ensure_secret_key(settings) == key
    assert not (tmp_path / "data" / SECRET_KEY_FILE).exists()


@pytest.mark.slow
def test_hub_serve_with_a_bad_port_prints_one_line_naming_hub_port(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({"HUB_PORT": "notanumber", "HUB_DATA_DIR": str(tmp_path / "data")})

    result = subprocess.run(
        [HUB_BIN, "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "HUB_PORT" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # it stopped before touching anything


@pytest.mark.slow
def test_hub_serve_with_a_non_json_list_setting_prints_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({"HUB_PLUGINS_BLOCKED": "whatsapp", "HUB_DATA_DIR": str(tmp_path / "data")})

    result = subprocess.run(
        [HUB_BIN, "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "HUB_PLUGINS_BLOCKED" in lines[0]
