"""The settings of one email mailbox (IMAP in, SMTP out); the admin form is generated from it."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from hub.contract import PLUGIN_CONFIG
from pydantic import AfterValidator, BaseModel, EmailStr, Field, SecretStr

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


Host = Annotated[str, AfterValidator(_host_name)]
Port = Annotated[int, Field(ge=1, le=65535)]


class EmailConfig(BaseModel):
    """One mailbox: where its mail is read (IMAP) and how replies are sent (SMTP)."""

    model_config = PLUGIN_CONFIG

    imap_host: Host = Field(
        title="IMAP server",
        description="Host name of the incoming mail (IMAP) server, e.g. imap.example.com.",
    )
    imap_port: Port = Field(
        default=993,
        title="IMAP port",
        description="993 for SSL/TLS, 143 for STARTTLS.",
    )
    imap_security: Literal["ssl", "starttls", "none"] = Field(
        default="ssl",
        title="IMAP security",
        description="ssl: encrypted from the start (port 993). starttls: upgraded after "
        "connecting (port 143). none: unencrypted, only for a server on a trusted network.",
    )
    imap_username: str = Field(
        min_length=1,
        title="IMAP username",
        description="The login for the mailbox, usually its full email address.",
    )
    imap_password: SecretStr = Field(
        title="IMAP password",
        description="The mailbox password, or an app password where the provider requires one.",
    )
    imap_mailbox: str = Field(
        default="INBOX",
        min_length=1,
        title="Mailbox folder",
        description="The IMAP folder to import mail from.",
    )
    smtp_host: Host = Field(
        title="SMTP server",
        description="Host name of the outgoing mail (SMTP submission) server, "
        "e.g. smtp.example.com.",
    )
    smtp_port: Port = Field(
        default=587,
        title="SMTP port",
        description="587 for STARTTLS, 465 for SSL/TLS. Port 25 is for server-to-server relay.",
    )
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls",
        title="SMTP security",
        description="starttls: upgraded after connecting (port 587). ssl: encrypted from the "
        "start (port 465). none: unencrypted, only for a server on a trusted network.",
    )
    smtp_username: str = Field(
        min_length=1,
        title="SMTP username",
        description="The login for sending, usually the same as the IMAP username.",
    )
    smtp_password: SecretStr = Field(
        title="SMTP password",
        description="The password for sending, usually the same as the IMAP password.",
    )
    from_address: EmailStr = Field(
        title="From address",
        description="The address replies are sent from; customers see it and reply to it.",
    )
    from_name: str | None = Field(
        default=None,
        title="From name",
        description="The display name shown beside the address, e.g. 'Acme Support'. "
        "Leave it empty to send the address alone.",
    )
