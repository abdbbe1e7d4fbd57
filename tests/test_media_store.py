"""The media store keeps bytes by sha256, once, atomically; the limits name what they break."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hub.errors import HubError
from hub.media.store import FileMediaStore, MediaLimits, MediaStore, safe_filename


def files_in(root: Path, pattern: str = "*") -> list[Path]:
    return [p for p in root.rglob(pattern) if p.is_file()]


async def test_put_names_the_file_by_its_sha256_in_fan_out_folders(tmp_path: Path) -> None:
    store = FileMediaStore(tmp_path / "media")
    data = b"hello, world"
    sha = await store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    path = tmp_path / "media" / sha[:2] / sha[2:4] / sha
    assert path.read_bytes() == data
    assert await store.read(sha) == data
    assert await store.exists(sha)


async def test_equal_bytes_are_stored_once(tmp_path: Path) -> None:
    store = FileMediaStore(tmp_path)
    first = await store.put(b"same")
    second = await store.put(b"same")
    other = await store.put(b"different")
    assert first == second != other
    assert len(files_in(tmp_path)) == 2


async def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    store = FileMediaStore(tmp_path)
    for i in range(5):
        await store.put(f"file {i}".encode())
    assert files_in(tmp_path, ".tmp-*") == []


async def test_a_failed_write_leaves_no_file_under_the_final_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileMediaStore(tmp_path)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("hub.media.store.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        await store.put(b"never whole")
    sha = hashlib.sha256(b"never whole").hexdigest()
    assert not await store.exists(sha)
    assert files_in(tmp_path) == []


async def test_missing_and_malformed_hashes_are_not_found(tmp_path: Path) -> None:
    store: MediaStore = FileMediaStore(tmp_path / "media")
    (tmp_path / "secret.txt").write_text("outside the store")
    for name in ["0" * 64, "../secret.txt", "../../" + "a" * 58, "A" * 64]:
        assert not await store.exists(name)
        with pytest.raises(FileNotFoundError):
            await store.read(name)


def test_the_store_lives_in_the_data_folder(tmp_path: Path) -> None:
    assert FileMediaStore.in_data_dir(tmp_path).root == tmp_path / "media"


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("photo.JPG", "image/jpeg"),
        ("report.pdf", "application/pdf"),
        ("notes.txt", "text/plain"),
        ("archive.tar.gz", "application/gzip"),
        ("sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_allowed_types_are_served_by_extension(filename: str, content_type: str) -> None:
    assert MediaLimits().content_type_of(filename) == content_type


@pytest.mark.parametrize("filename", ["page.html", "script.svg", "run.exe", "noextension", "x."])
def test_other_types_are_415_naming_file(filename: str) -> None:
    with pytest.raises(HubError) as caught:
        MediaLimits().content_type_of(filename)
    assert caught.value.status == 415
    assert caught.value.details[0]["field"] == "file"


def test_too_many_files_is_422_naming_attachments() -> None:
    limits = MediaLimits()
    limits.check_count(50)
    with pytest.raises(HubError) as caught:
        limits.check_count(51)
    assert caught.value.status == 422
    assert caught.value.details[0]["field"] == "attachments"


def test_too_large_is_413_naming_file_and_the_limit() -> None:
    error = MediaLimits().too_large()
    assert error.status == 413
    assert "20 MB" in error.message
    assert error.details[0]["field"] == "file"


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\dana\\photo.png", "photo.png"),
        ("bad\x00name\r\n.txt", "badname.txt"),
        ("Änderung 2026.docx", "Änderung 2026.docx"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_filenames_are_made_safe(raw: str, safe: str) -> None:
    assert safe_filename(raw) == safe


@pytest.mark.parametrize("raw", [None, "", "   ", "../", "\x00"])
def test_a_filename_with_nothing_left_is_422(raw: str | None) -> None:
    with pytest.raises(HubError) as caught:
        safe_filename(raw)
    assert caught.value.status == 422
