"""Inbox Hub: a self-hosted omnichannel inbox with channel and CRM plugins."""


def __getattr__(name: str) -> str:
    """``hub.__version__``, read from the installed metadata when first asked for:
    importing ``importlib.metadata`` on every ``import hub`` cost the CLI's start-up."""
    if name != "__version__":
        raise AttributeError(f"module 'hub' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("inbox-hub")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        found = "0.0.0"
    globals()["__version__"] = found
    return found
