"""The Dovecot fixture's rule for a machine without Dovecot: skip the email server tests
with a message saying what to install, but fail them where CI requires Dovecot."""

from __future__ import annotations

from pathlib import Path

import dovecot
import pytest


@pytest.fixture
def no_dovecot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(dovecot, "DOVECOT", tmp_path / "missing" / "dovecot")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("HUB_REQUIRE_DOVECOT", raising=False)


@pytest.mark.usefixtures("no_dovecot")
def test_without_dovecot_the_tests_skip_saying_what_to_install() -> None:
    with pytest.raises(pytest.skip.Exception, match="apt-get install dovecot-imapd"):
        dovecot.require_dovecot()


@pytest.mark.usefixtures("no_dovecot")
@pytest.mark.parametrize("variable", ["CI", "HUB_REQUIRE_DOVECOT"])
def test_without_dovecot_in_ci_the_tests_fail(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "1")
    with pytest.raises(pytest.fail.Exception, match="requires it"):
        dovecot.require_dovecot()


def test_with_dovecot_installed_nothing_is_skipped() -> None:
    if dovecot.dovecot_missing_reason() is not None:
        pytest.skip("Dovecot is not installed here")
    dovecot.require_dovecot()  # neither skips nor fails
