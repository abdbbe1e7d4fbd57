"""The settings of one email mailbox (IMAP in, SMTP out); the admin form is generated from it.

Field names follow issue 14. The form shows what every mailbox needs (servers, logins,
the From address) and folds what is rarely changed under "Advanced settings" (``ADVANCED``):
the folder to read, marking mail read, threading window, size limit, polling interval.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from typing import Annotated, Literal

from hub.contract import ADVANCED, PLUGIN_CONFIG, EmptyIsDefault
from pydantic import (
    AfterValidator,
    BaseModel,
    EmailStr,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic_core import InitErrorDetails, PydanticCustomError

_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _host_name(value: str) -> str:
    """Accept a bare host name or IP address, without a scheme, port or path."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        labels = value.rstrip(".").split(".")
        if len(value) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
            raise ValueError(
                "must be a host name such as mail.example.com, without imaps:// or a :port"
            ) from None
    return value


def _folder_name(value: str) -> str:
    """Refuse a folder name IMAP cannot carry as one quoted string (line breaks, NUL)."""
    if any(char in value for char in "\r\n\0"):
        raise ValueError("must be one line: a folder name such as INBOX or Sent")
    return value


Host = Annotated[str, AfterValidator(_host_name)]
Port = Annotated[int, Field(ge=1, le=65535)]
Folder = Annotated[str, AfterValidator(_folder_name)]
Security = Literal["tls", "starttls", "none"]
"""How a connection is encrypted: TLS from the first byte, upgraded with STARTTLS after
the greeting, or not at all."""

_SECURITY_LABELS: JsonDict = {
    "tls": "TLS (encrypted from the start)",
    "starttls": "STARTTLS (upgraded after connecting)",
    "none": "None (unencrypted: trusted networks only)",
}


class EmailConfig(BaseModel):
    """One mailbox: where its mail is read (IMAP) and how replies are sent (SMTP)."""

    model_config = PLUGIN_CONFIG

    imap_host: Host = Field(
        title="IMAP server",
        description="Host name of the incoming mail server, e.g. imap.gmail.com or "
        "outlook.office365.com.",
    )
    imap_port: Port = Field(
        default=993,
        title="IMAP port",
        description="993 with TLS (Gmail, Microsoft 365), 143 with STARTTLS.",
    )
    imap_security: Security = Field(
        default="tls",
        title="IMAP security",
        description="TLS for port 993, STARTTLS for port 143. None only for a server on a "
        "network you trust: the password then travels unencrypted.",
        json_schema_extra={"choice_labels": _SECURITY_LABELS},
    )
    imap_username: str = Field(
        min_length=1,
        title="IMAP username",
        description="The login of the mailbox, usually its full email address.",
    )
    imap_password: SecretStr = Field(
        title="IMAP password",
        description="The mailbox password. Gmail and Microsoft 365 accounts with two-step "
        "verification need an app password created in the account's security settings.",
    )
    smtp_host: Host = Field(
        title="SMTP server",
        description="Host name of the outgoing mail server, e.g. smtp.gmail.com or "
        "smtp.office365.com.",
    )
    smtp_port: Port = Field(
        default=587,
        title="SMTP port",
        description="587 with STARTTLS or 465 with TLS. Port 25 is for server-to-server "
        "relay and is often blocked.",
    )
    smtp_security: Security = Field(
        default="starttls",
        title="SMTP security",
        description="STARTTLS for port 587, TLS for port 465. None only for a relay on a "
        "network you trust.",
        json_schema_extra={"choice_labels": _SECURITY_LABELS},
    )
    smtp_username: Annotated[str | None, EmptyIsDefault] = Field(
        default=None,
        title="SMTP username",
        description="The login for sending, usually the same as the IMAP username. Leave "
        "it empty for a relay that accepts mail without a login.",
    )
    smtp_password: Annotated[SecretStr | None, EmptyIsDefault] = Field(
        default=None,
        title="SMTP password",
        description="The password for sending, usually the same as the IMAP password "
        "(or app password). Needed when an SMTP username is given.",
    )
    from_address: EmailStr = Field(
        title="From address",
        description="The address replies are sent from; customers see it and answer to "
        "it. Usually the mailbox's own address: most providers refuse any other.",
    )
    from_name: Annotated[str | None, EmptyIsDefault] = Field(
        default=None,
        title="From name",
        description="The name shown beside the address, e.g. Acme Support. Leave it empty "
        "to send the address alone.",
    )
    agent_name_in_from: bool = Field(
        default=False,
        title="Show the agent's name in From",
        description="Send as 'Ana via Acme Support' rather than 'Acme Support'. The address "
        "stays the same, so replies still come to this mailbox.",
    )
    sent_folder: Annotated[Folder | None, EmptyIsDefault] = Field(
        default=None,
        title="Sent folder",
        description="The IMAP folder a copy of every sent reply is saved in, e.g. Sent or "
        "Sent Items, so it shows in your mail client; it also guards against sending a "
        "reply twice after a crash. Leave it empty for Gmail and Microsoft 365, which "
        "save sent mail themselves.",
    )
    imap_folder: Folder = Field(
        default="INBOX",
        min_length=1,
        title="Folder to read",
        description="The IMAP folder whose mail is imported. INBOX unless a server rule "
        "files the support mail elsewhere.",
        json_schema_extra=ADVANCED,
    )
    mark_seen: bool = Field(
        default=False,
        title="Mark imported mail as read",
        description="Flag each imported mail as read in the mailbox. Off: the mailbox is "
        "left as it was, for people who also read it in a mail client.",
        json_schema_extra=ADVANCED,
    )
    subject_thread_hours: int = Field(
        default=72,
        ge=0,
        le=24 * 90,
        title="Thread by subject within (hours)",
        description="A mail without reply headers joins the same contact's conversation "
        "with the same subject (Re:, AW:, Fwd: removed) when that conversation had mail "
        "within this many hours. 0 turns subject threading off.",
        json_schema_extra=ADVANCED,
    )
    max_message_mb: int = Field(
        default=25,
        ge=1,
        le=200,
        title="Largest mail imported (MB)",
        description="A bigger mail is imported as its headers with a note and stays in "
        "the mailbox; it is never dropped.",
        json_schema_extra=ADVANCED,
    )
    poll_seconds: int = Field(
        default=60,
        ge=10,
        le=3600,
        title="Check for new mail every (seconds)",
        description="Only for servers without IMAP IDLE; with IDLE (Gmail, Microsoft 365, "
        "Dovecot) new mail arrives within seconds.",
        json_schema_extra=ADVANCED,
    )
    message_id_tag: Annotated[str, EmptyIsDefault] = Field(
        default_factory=lambda: secrets.token_hex(8),
        pattern=r"^[A-Za-z0-9._-]{4,64}$",
        title="Message-ID tag",
        description="Part of every Message-ID this channel sends, so mail from two hubs "
        "(or a reinstalled hub) on one mailbox never shares one. Left empty, one is "
        "generated; do not change it afterwards.",
        json_schema_extra=ADVANCED,
    )

    @model_validator(mode="after")
    def _smtp_login_is_whole(self) -> EmailConfig:
        """An SMTP username without a password (or the reverse) cannot log in: the error
        names the missing field, so the form shows it beside that input."""
        if (self.smtp_username is None) != (self.smtp_password is None):
            missing = "smtp_password" if self.smtp_password is None else "smtp_username"
            error = PydanticCustomError(
                "missing",
                "needed with the other SMTP login field: give the SMTP username and "
                "password both, or neither for a relay without login",
            )
            detail = InitErrorDetails(type=error, loc=(missing,), input=None)
            raise ValidationError.from_exception_data(type(self).__name__, [detail])
        return self
