"""A real Dovecot IMAP server for the email tests, started from a config of its own.

``dovecot_server`` (session scope) starts one Dovecot per pytest process (each xdist
worker its own, on free ports, in a temporary folder of its own) and stops it at the
end.
It listens on 127.0.0.1 with plain IMAP (STARTTLS offered) and, where a self-signed
certificate could be made, implicit TLS. Users live in a passwd-file written before the start;
``new_user()`` hands out one not used before, with an empty mailbox, so tests sharing the server never see each other's
mail. Helpers put mail in place without going through the code under test: ``append``
(stdlib ``imaplib``), ``create_folder``, ``set_uidvalidity`` (``doveadm``),
``recreate_folder`` and ``flags``.

Without ``/usr/sbin/dovecot`` the tests that use it are skipped with a message, except
where ``CI`` or ``HUB_REQUIRE_DOVECOT`` is set: there a missing Dovecot fails them.
"""

from __future__ import annotations

import contextlib
import imaplib
import itertools
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOVECOT = Path(os.environ.get("HUB_DOVECOT", "/usr/sbin/dovecot"))
DOVEADM = DOVECOT.parent.parent / "bin" / "doveadm"
PASSWORD = "secret-Pw-1"
START_TIMEOUT = 10.0
# The users are written before the start: Dovecot notices a changed passwd-file by its
# mtime, which a second change within the same second does not move.
USERS = 1000

_CONFIG = """\
protocols = imap
listen = 127.0.0.1, 127.0.0.2
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
instance_name = hub-test-{port}
disable_plaintext_auth = no
auth_mechanisms = plain login
# Refused logins answer at once (the default waits 2 s to slow down guessing).
auth_failure_delay = 0
mail_location = maildir:~/Maildir
# Test mail is disposable: no fsync per APPEND (10 ms each otherwise).
mail_fsync = never
# Tests wait for IDLE to notice an APPEND: check often where inotify is not used.
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 2 mins
ssl = {ssl}
{ssl_files}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1, 127.0.0.2
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
# 127.0.0.2 is the same server without IDLE, as some servers are.
local 127.0.0.2 {{
  protocol imap {{
    imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ UIDPLUS
  }}
}}
service anvil {{
  chroot =
  # No auth penalty: after a refused login (a test of it), the next logins from
  # 127.0.0.1 would wait 2 to 15 s.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
}}
"""


def free_port() -> int:
    """A TCP port nobody listens on now (the server binds it right after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _make_certificate(folder: Path) -> tuple[Path, Path] | None:
    """A self-signed certificate for 127.0.0.1 and its key, or None when no tool can."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Dovecot:
    """One running Dovecot and what a test needs to reach and fill it."""

    root: Path
    port: int
    tls_port: int | None
    certificate: Path | None
    host: str = "127.0.0.1"
    host_without_idle: str = "127.0.0.2"
    """The same server, its IMAP capabilities without IDLE."""
    process: subprocess.Popen[bytes] | None = None
    _users: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def config_file(self) -> Path:
        """The server's own config (give it to ``doveadm -c``)."""
        return self.root / "dovecot.conf"

    def tls_context(self) -> ssl.SSLContext:
        """A client context trusting the test certificate."""
        assert self.certificate is not None, "this Dovecot has no TLS"
        return ssl.create_default_context(cafile=str(self.certificate))

    def new_user(self) -> str:
        """A user (password ``PASSWORD``) with an empty mailbox, not handed out before."""
        number = next(self._users)
        assert number <= USERS, f"the test Dovecot has {USERS} users: raise USERS"
        return user_name(number)

    @contextlib.contextmanager
    def imap(self, user: str) -> Iterator[imaplib.IMAP4]:
        """A logged-in stdlib IMAP session of ``user`` (the tests' own, independent path)."""
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            client.login(user, PASSWORD)
            yield client
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                client.logout()

    def append(
        self, user: str, raw: bytes, folder: str = "INBOX", flags: Iterable[str] = ()
    ) -> int:
        """Put one mail in ``folder`` of ``user``; return its UID."""
        return self.append_many(user, [raw], folder, flags)[0]

    def append_many(
        self, user: str, raws: Iterable[bytes], folder: str = "INBOX", flags: Iterable[str] = ()
    ) -> list[int]:
        """Put many mails in ``folder`` over one connection; return their UIDs."""
        flag_list = "(" + " ".join(flags) + ")"
        uids: list[int] = []
        with self.imap(user) as client:
            for raw in raws:
                status, data = client.append(_quote(folder), flag_list, None, raw)
                assert status == "OK", data
                # Dovecot answers [APPENDUID <uidvalidity> <uid>] (UIDPLUS).
                found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
                assert found, data
                uids.append(int(found.group(1)))
        return uids

    def create_folder(self, user: str, folder: str) -> None:
        """Create a mailbox folder of ``user``."""
        with self.imap(user) as client:
            status, data = client.create(_quote(folder))
            assert status == "OK", data

    def flags(self, user: str, uid: int, folder: str = "INBOX") -> set[str]:
        """The flags of one mail, read without touching them."""
        with self.imap(user) as client:
            client.select(_quote(folder), readonly=True)
            status, data = client.uid("FETCH", str(uid), "(FLAGS)")
            assert status == "OK" and data and data[0], data
            found = re.search(rb"FLAGS \(([^)]*)\)", data[0] if isinstance(data[0], bytes) else b"")
            assert found, data
            return set(found.group(1).decode().split())

    def logins(self, user: str) -> int:
        """How many times ``user`` has logged in (from the server's log)."""
        log = (self.root / "dovecot.log").read_text(errors="replace")
        return log.count(f"Login: user=<{user}>")

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        """The folder's UIDVALIDITY now."""
        with self.imap(user) as client:
            status, data = client.status(_quote(folder), "(UIDVALIDITY)")
            assert status == "OK", data
            found = re.search(rb"UIDVALIDITY (\d+)", data[0] or b"")
            assert found, data
            return int(found.group(1))

    def set_uidvalidity(self, user: str, value: int, folder: str = "INBOX") -> None:
        """Give the folder a new UIDVALIDITY, its mail kept (as after a server migration)."""
        self.doveadm("mailbox", "update", "-u", user, "--uid-validity", str(value), folder)

    def recreate_folder(self, user: str, folder: str) -> None:
        """Delete and create the folder again: its mail is gone, its UIDVALIDITY new."""
        with self.imap(user) as client:
            client.delete(_quote(folder))
            status, data = client.create(_quote(folder))
            assert status == "OK", data

    def doveadm(self, *args: str) -> str:
        """Run a doveadm command against this server; return its output."""
        done = subprocess.run(
            [str(DOVEADM), "-c", str(self.config_file), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, f"doveadm {' '.join(args)}: {done.stderr}"
        return done.stdout

    def stop(self) -> None:
        """Stop the server: SIGTERM to its master process, which takes its children
        along (nothing here waits for that)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()


def user_name(number: int) -> str:
    """The name of test user ``number`` (1..USERS)."""
    return f"user{number}@example.test"


def _quote(folder: str) -> str:
    """A folder name as an IMAP quoted string (stdlib imaplib sends it verbatim)."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _open_to_mail_user(root: Path) -> None:
    """Let Dovecot's processes that run as other users reach the folder: the mail
    processes run as nobody (Dovecot refuses uid 0 for mail), auth as dovecot."""
    shutil.chown(root / "mail", "nobody", "nogroup")
    root.chmod(0o755)


def dovecot_missing_reason() -> str | None:
    """Why Dovecot cannot run here, or None when it can."""
    if not DOVECOT.exists():
        return f"Dovecot is not installed ({DOVECOT} missing; apt-get install dovecot-imapd)"
    return None


def require_dovecot() -> None:
    """Skip the test without Dovecot, or fail it where CI requires Dovecot."""
    reason = dovecot_missing_reason()
    if reason is None:
        return
    if os.environ.get("CI") or os.environ.get("HUB_REQUIRE_DOVECOT"):
        pytest.fail(f"{reason}, and CI/HUB_REQUIRE_DOVECOT requires it")
    pytest.skip(reason)


def start_dovecot(root: Path) -> Dovecot:
    """Write a config under ``root`` and start Dovecot from it; wait until it listens."""
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(exist_ok=True)
    if os.geteuid() == 0:
        _open_to_mail_user(root)
    users = "".join(f"{user_name(n)}:{{PLAIN}}{PASSWORD}\n" for n in range(1, USERS + 1))
    (root / "passwd").write_text(users, encoding="utf-8")
    certificate = _make_certificate(root)
    port = free_port()
    tls_port = free_port() if certificate else None
    ssl_files = f"ssl_cert = <{certificate[0]}\nssl_key = <{certificate[1]}" if certificate else ""
    config = _CONFIG.format(
        root=root,
        port=port,
        tls_port=tls_port or 0,
        ssl="yes" if certificate else "no",
        ssl_files=ssl_files,
    )
    config_file = root / "dovecot.conf"
    config_file.write_text(config, encoding="utf-8")
    # In the foreground, as this process's child (stopped by terminate()); its output to
    # a file, not a pipe nobody reads.
    with (root / "start.log").open("wb") as out:
        process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(config_file)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Dovecot(
        root=root,
        port=port,
        tls_port=tls_port,
        certificate=certificate[0] if certificate else None,
        process=process,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while not _listening(port):
        if process.poll() is not None:
            output = (root / "start.log").read_text(errors="replace")
            raise RuntimeError(f"dovecot did not start: {output}")
        if time.monotonic() > deadline:
            log = (root / "dovecot.log").read_text(errors="replace")[-2000:]
            server.stop()
            raise RuntimeError(f"dovecot did not listen on {port}: {log}")
        time.sleep(0.05)
    return server


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    """One Dovecot per test process (each xdist worker its own), stopped and removed at
    the end of the session.

    Its folder is a temporary folder of its own, not one of pytest's: pytest keeps
    ``/tmp/pytest-of-<user>`` at mode 0700 (and resets it when another pytest run
    starts), which Dovecot's unprivileged processes cannot enter."""
    require_dovecot()
    folder = Path(tempfile.mkdtemp(prefix="hub-dovecot-"))
    folder.chmod(0o755)  # mkdtemp makes it 0700
    server = start_dovecot(folder / "dovecot")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """The session's Dovecot (the name tests use)."""
    return dovecot_server
