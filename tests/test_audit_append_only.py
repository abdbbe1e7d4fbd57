"""The audit log is append-only: besides the recorder, its readers and the retention
job, no code touches its table, and only the retention job deletes from it. A new
module that updates or deletes entries fails here until it is justified."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "hub/store/models/__init__.py",
    "hub/store/models/audit.py",
    "hub/auth/audit.py",
    "hub/auth/audit_log.py",
    "hub/auth/audit_retention.py",
    "hub/api/audit_csv.py",
    "hub/api/schemas/audit.py",
    "admin_ui/admin/audit_log.py",
}
WRITES = re.compile(r"\b(delete|update)\s*\(\s*AuditEntry\b|delete_in_batches\([^)]*AuditEntry")


def sources() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text()
        for package in ("hub", "admin_ui")
        for path in (ROOT / package).rglob("*.py")
    }


def test_only_the_audit_modules_name_the_table() -> None:
    touching = {name for name, text in sources().items() if re.search(r"\bAuditEntry\b", text)}
    assert touching == ALLOWED


def test_only_the_retention_job_deletes_entries() -> None:
    writers = {name for name, text in sources().items() if WRITES.search(text)}
    assert writers == {"hub/auth/audit_retention.py"}
    recorder = (ROOT / "hub/auth/audit.py").read_text()
    assert "db.add(entry)" in recorder
    assert not re.search(r"\bdelete\(|\.delete\b|\bupdate\(|\.execute\(", recorder)
