"""Inbox Hub: a self-hosted omnichannel inbox with channel and CRM plugins."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("inbox-hub")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"
