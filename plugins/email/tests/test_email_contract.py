"""The email channel passes the hub's conformance kit for polling channels, against a
real Dovecot (mail is APPENDed, then polled) and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from typing import Any

import pytest
import respx
from dovecot import Dovecot, dovecot, dovecot_server
from email_imap_helpers import FastEmail, config_for, mail
from hub.contract import PermanentFailure, RetryLater
from hub.testing.contract import SendErrorCase
from hub.testing.polling_contract import PollingChannelContract
from smtp_server import SmtpServers, smtp, smtp_servers

from hub_email import parse

__all__ = ["dovecot", "dovecot_server", "smtp", "smtp_servers"]  # fixtures, used by name
pytestmark = pytest.mark.slow  # starts Dovecot (once per test process)

UNREADABLE = "X-Test-Unreadable"


class TestEmailContract(PollingChannelContract):
    """The kit's checks with mail in a Dovecot mailbox and replies sent over SMTP."""

    channel_type = FastEmail

    @pytest.fixture(autouse=True)
    def _servers(
        self, dovecot: Dovecot, smtp: SmtpServers, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.dovecot, self.smtp = dovecot, smtp
        self.user = dovecot.new_user()
        # A mail the parser cannot read is what email cannot translate. The parser reads
        # any real mail (broken MIME included, a part at a time), so a parser failure
        # is staged for mail marked with this header: the plugin keeps it as a file.
        real = parse.parse_mail

        def parse_mail(raw: bytes, **kwargs: Any) -> Any:
            if UNREADABLE.encode() in raw:
                raise ValueError("the parser failed (staged by the test)")
            return real(raw, **kwargs)

        monkeypatch.setattr(parse, "parse_mail", parse_mail)

    def channel_config(self) -> dict[str, Any]:
        return config_for(self.dovecot, self.user, smtp_port=self.smtp.plain.port)

    def inbound_samples(self, config: dict[str, Any]) -> list[bytes]:
        return [
            mail("Where is my order?", "order-1@customer.example.org", "Order 1234, please."),
            mail(
                "Invoice",
                "invoice-2@customer.example.org",
                "See the attachment.",
                attachment=("invoice.pdf", b"%PDF-1.4 invoice"),
            ),
        ]

    def unsupported_sample(self, config: dict[str, Any]) -> bytes:
        return mail("Strange", "strange-3@customer.example.org", headers={UNREADABLE: "yes"})

    async def deliver(self, config: dict[str, Any], sample: bytes) -> None:
        self.dovecot.append(config["imap_username"], sample)

    def send_error_cases(self) -> list[SendErrorCase]:
        def refuse(reply: str) -> Any:
            def mock(router: respx.MockRouter, config: dict[str, Any]) -> None:
                self.smtp.plain.fail_next("RCPT", reply)

            return mock

        return [
            SendErrorCase("no such user", refuse("550 5.1.1 No such user here"), PermanentFailure),
            SendErrorCase("greylisted", refuse("451 4.7.1 Try again later"), RetryLater),
        ]
