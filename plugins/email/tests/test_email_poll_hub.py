"""Mail polled into a real hub (SQLite, the hub's poller and intake) from a real Dovecot:
a repeated poll after a crash, a changed UIDVALIDITY and a parser fix leave each mail
once, and a mail the parser failed on is shown to admins in the inbound log."""

from __future__ import annotations

from typing import Any

import pytest
from dovecot import Dovecot, dovecot, dovecot_server
from email_imap_helpers import FastEmail, config_for, mail
from hub.testing import HubApi
from smtp_server import SmtpServers, smtp, smtp_servers

from hub_email import parse

__all__ = ["dovecot", "dovecot_server", "smtp", "smtp_servers"]  # fixtures, used by name
pytestmark = pytest.mark.slow  # starts Dovecot (once per test process)


@pytest.fixture
def hub_plugins() -> list[object]:
    """The email type, available, with a short IDLE."""
    return [FastEmail]


@pytest.fixture
def hub_settings(hub_settings: Any) -> Any:
    """No background poll loops: the tests poll."""
    return hub_settings.model_copy(update={"polling_enabled": False})


async def channel_of(hub_api: HubApi, dovecot: Dovecot, smtp: SmtpServers) -> tuple[int, str]:
    """A channel created through the API (connect logs in to both servers)."""
    user = dovecot.new_user()
    created = await hub_api.create_channel(
        "email", config_for(dovecot, user, smtp_port=smtp.plain.port)
    )
    return created.id, user


async def stored_ids(hub_api: HubApi, channel_id: int) -> list[str]:
    return sorted(m["external_id"] for m in await hub_api.channel_messages(channel_id))


async def test_a_poll_repeated_from_the_old_cursor_stores_each_mail_once(
    hub_api: HubApi, dovecot: Dovecot, smtp: SmtpServers
) -> None:
    channel_id, user = await channel_of(hub_api, dovecot, smtp)
    dovecot.append_many(user, [mail("One", "one@example.org"), mail("Two", "two@example.org")])
    before = await hub_api.poll_cursor(channel_id)
    assert await hub_api.poll_until_quiet(channel_id) == 2
    # The process died after fetching, before its commit: the cursor is the old one.
    await hub_api.set_poll_cursor(channel_id, before)
    dovecot.append(user, mail("Three", "three@example.org"))
    assert await hub_api.poll_until_quiet(channel_id) == 1
    assert await stored_ids(hub_api, channel_id) == [
        "one@example.org",
        "three@example.org",
        "two@example.org",
    ]


async def test_a_changed_uidvalidity_imports_new_mail_and_no_duplicates(
    hub_api: HubApi, dovecot: Dovecot, smtp: SmtpServers
) -> None:
    channel_id, user = await channel_of(hub_api, dovecot, smtp)
    dovecot.append_many(user, [mail("One", "one@example.org"), mail("Two", "two@example.org")])
    assert await hub_api.poll_until_quiet(channel_id) == 2
    dovecot.set_uidvalidity(user, 4242)
    dovecot.append(user, mail("Three", "three@example.org"))
    assert await hub_api.poll_until_quiet(channel_id) == 1
    assert len(await stored_ids(hub_api, channel_id)) == 3
    assert '"uidvalidity":4242' in (await hub_api.poll_cursor(channel_id) or "")


async def test_an_unparseable_mail_is_logged_kept_and_replaced_after_a_parser_fix(
    hub_api: HubApi, dovecot: Dovecot, smtp: SmtpServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel_id, user = await channel_of(hub_api, dovecot, smtp)
    dovecot.append(user, mail("Broken", "broken@example.org", "what the customer wrote"))
    real_parse = parse.parse_mail

    def failing(raw: bytes, **kwargs: Any) -> Any:
        raise ValueError("parser bug")

    monkeypatch.setattr(parse, "parse_mail", failing)
    assert await hub_api.poll_until_quiet(channel_id) == 1
    [kept] = await hub_api.channel_messages(channel_id)
    assert [p["kind"] for p in kept["parts"]] == ["unsupported", "media"]
    log = await hub_api.call("GET", "/api/v1/inbound-log", params={"channel_id": str(channel_id)})
    assert any("parser bug" in (entry.get("reason") or "") for entry in log["items"]), log

    monkeypatch.setattr(parse, "parse_mail", real_parse)
    monkeypatch.setattr(parse, "PARSER_VERSION", parse.PARSER_VERSION + 1)
    await hub_api.poll_until_quiet(channel_id)
    [fixed] = await hub_api.channel_messages(channel_id)
    assert fixed["id"] == kept["id"]  # the same message, edited in place
    assert "unsupported" not in [p["kind"] for p in fixed["parts"]]
    assert "what the customer wrote" in str(fixed["parts"])
