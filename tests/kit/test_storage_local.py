"""The encrypted local object store on a real directory: round trips, integrity, atomic writes."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import uuid
from pathlib import Path

import pytest

from ortholens.kit.errors import InvalidInput, OrthoLensError
from ortholens.kit.storage.base import ObjectCorrupt, ObjectExists, ObjectMissing
from ortholens.kit.storage.keys import make_key, validate_key
from ortholens.kit.storage.local import CHUNK_BYTES, LocalObjectStore
from ortholens.kit.storage.signing import UrlSigner

KEY = "c1/p1/photo/0001/original.jpg"


def make_store(root: Path, key: bytes = b"k" * 32) -> LocalObjectStore:
    return LocalObjectStore(
        root=root, encryption_key=key, signer=UrlSigner(b"s" * 48, "http://testserver")
    )


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return make_store(tmp_path / "objects")


def payload(size: int) -> bytes:
    """Deterministic, non-repeating bytes (a repeated pattern could hide chunk mix-ups)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])


def leftover_files(store: LocalObjectStore) -> list[Path]:
    return [path for path in store.root.rglob("*") if path.is_file()]


def test_bytes_round_trip_and_head(store: LocalObjectStore) -> None:
    data = b"hello, orthodontics"
    info = store.put(KEY, data, content_type="image/jpeg")
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert store.read(KEY) == data
    assert store.head(KEY) == info


def test_file_object_of_several_megabytes_round_trips(store: LocalObjectStore) -> None:
    data = payload(5 * 1024 * 1024 + 123)
    info = store.put(KEY, io.BytesIO(data), content_type="model/stl")
    assert (info.size, info.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    pieces = list(store.iter_chunks(KEY, chunk_size=1 << 20))
    assert b"".join(pieces) == data
    assert len(pieces) > 1
    head = store.head(KEY)
    assert head is not None
    assert (head.size, head.sha256, head.content_type) == (info.size, info.sha256, "model/stl")


@pytest.mark.parametrize("size", [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1])
def test_chunk_boundaries_round_trip(store: LocalObjectStore, size: int) -> None:
    data = payload(size)
    store.put(KEY, data, content_type="application/octet-stream")
    assert store.read(KEY) == data
    head = store.head(KEY)
    assert head is not None
    assert head.size == size


def test_plaintext_is_not_on_disk(store: LocalObjectStore) -> None:
    data = payload(200_000)
    store.put(KEY, data, content_type="image/jpeg")
    raw = (store.root / KEY).read_bytes()
    for start in (0, 100_000, 199_000):
        assert data[start : start + 64] not in raw
    assert b"image/jpeg" not in raw
    assert hashlib.sha256(data).hexdigest().encode() not in raw


def test_owner_only_permissions(store: LocalObjectStore) -> None:
    store.put(KEY, b"x", content_type="image/jpeg")
    assert stat.S_IMODE((store.root / KEY).stat().st_mode) == 0o600
    assert stat.S_IMODE((store.root / "c1" / "p1").stat().st_mode) == 0o700


def test_overwrite_is_refused_and_original_kept(store: LocalObjectStore) -> None:
    store.put(KEY, b"original", content_type="image/jpeg")
    with pytest.raises(ObjectExists):
        store.put(KEY, b"replacement", content_type="image/jpeg")
    assert store.read(KEY) == b"original"
    assert leftover_files(store) == [store.root / KEY]


def flip_byte(path: Path, offset: int) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x01
    path.write_bytes(bytes(raw))


def test_tampered_data_chunk_fails_to_decrypt(store: LocalObjectStore) -> None:
    store.put(KEY, payload(3 * CHUNK_BYTES), content_type="image/jpeg")
    flip_byte(store.root / KEY, 2 * CHUNK_BYTES + 100)
    assert store.head(KEY) is not None  # the meta chunk is intact
    with pytest.raises(ObjectCorrupt):
        store.read(KEY)


def test_tampered_meta_fails_head(store: LocalObjectStore) -> None:
    store.put(KEY, b"small", content_type="image/jpeg")
    path = store.root / KEY
    flip_byte(path, path.stat().st_size - 10)
    with pytest.raises(ObjectCorrupt):
        store.head(KEY)


def test_file_copied_to_another_key_fails(store: LocalObjectStore) -> None:
    store.put(KEY, b"patient A", content_type="image/jpeg")
    other = store.root / "c1/p2/photo/0001/original.jpg"
    other.parent.mkdir(parents=True)
    shutil.copyfile(store.root / KEY, other)
    with pytest.raises(ObjectCorrupt):
        store.head("c1/p2/photo/0001/original.jpg")
    with pytest.raises(ObjectCorrupt):
        store.read("c1/p2/photo/0001/original.jpg")


@pytest.mark.parametrize("cut", [1, 4, 500, CHUNK_BYTES + 16])
def test_truncated_file_fails(store: LocalObjectStore, cut: int) -> None:
    store.put(KEY, payload(2 * CHUNK_BYTES + 77), content_type="image/jpeg")
    path = store.root / KEY
    os.truncate(path, path.stat().st_size - cut)
    with pytest.raises(ObjectCorrupt):
        store.read(KEY)


def test_other_master_key_fails(tmp_path: Path) -> None:
    make_store(tmp_path).put(KEY, b"secret", content_type="image/jpeg")
    with pytest.raises(ObjectCorrupt):
        make_store(tmp_path, key=b"j" * 32).head(KEY)


def test_corruption_error_renders_as_problem() -> None:
    assert issubclass(ObjectCorrupt, OrthoLensError)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/abs/key.jpg",
        "a//b.jpg",
        "a/./b.jpg",
        "a/../b.jpg",
        "..",
        "a/.hidden",
        ".tmp/x",
        "a/b.jpg/",
        "a/b c.jpg",
        "a/b\\c.jpg",
        "a/ü.jpg",
        "a/" + "x" * 511,
    ],
)
def test_invalid_keys_are_rejected(store: LocalObjectStore, key: str) -> None:
    with pytest.raises(InvalidInput):
        validate_key(key)
    with pytest.raises(InvalidInput):
        store.put(key, b"x", content_type="image/jpeg")
    with pytest.raises(InvalidInput):
        store.head(key)
    assert leftover_files(store) == []


def test_make_key_builds_the_documented_layout() -> None:
    clinic, patient, object_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    key = make_key(clinic, patient, "photo", "original", ".JPG", object_id=object_id)
    assert key == f"{clinic}/{patient}/photo/{object_id}/original.jpg"
    assert make_key(clinic, patient, "photo", "original", "jpg") != make_key(
        clinic, patient, "photo", "original", "jpg"
    )
    with pytest.raises(InvalidInput):
        make_key(clinic, patient, "photo/../x", "original", "jpg")


class FailingReader(io.RawIOBase):
    """Gives `limit` bytes, then fails like a dropped connection."""

    def __init__(self, limit: int) -> None:
        self.remaining = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.remaining <= 0:
            raise ConnectionResetError("client went away")
        size = min(len(buffer), self.remaining, 10_000)
        buffer[:size] = b"z" * size
        self.remaining -= size
        return size


def test_failed_put_leaves_nothing_behind(store: LocalObjectStore) -> None:
    with pytest.raises(ConnectionResetError):
        store.put(KEY, FailingReader(300_000), content_type="image/jpeg")  # type: ignore[arg-type]
    assert leftover_files(store) == []
    assert store.head(KEY) is None
    store.put(KEY, b"retry works", content_type="image/jpeg")
    assert store.read(KEY) == b"retry works"


def test_missing_object(store: LocalObjectStore) -> None:
    assert store.head(KEY) is None
    with pytest.raises(ObjectMissing):
        store.iter_chunks(KEY)
    assert store.head("c1/p1") is None  # a directory is not an object


def test_iter_keys_lists_objects_only(store: LocalObjectStore) -> None:
    keys = ["c1/p1/photo/a/original.jpg", "c1/p1/photo/a/thumb.jpg", "c1/p2/xray/b/original.dcm"]
    for key in keys:
        store.put(key, b"x", content_type="image/jpeg")
    (store.temp_dir / "put-leftover").write_bytes(b"internal")
    assert list(store.iter_keys()) == sorted(keys)
    assert list(store.iter_keys("c1/p1/")) == keys[:2]
    assert list(store.iter_keys("c1/p1/photo/a/orig")) == keys[:1]
    assert list(store.iter_keys("c9/")) == []


def test_delete(store: LocalObjectStore) -> None:
    store.put(KEY, b"x", content_type="image/jpeg")
    store.delete(KEY)
    assert store.head(KEY) is None
    store.delete(KEY)  # missing is fine
    store.put(KEY, b"again", content_type="image/jpeg")
    assert store.read(KEY) == b"again"


def test_check_reports_unwritable_root(store: LocalObjectStore) -> None:
    store.check()
    shutil.rmtree(store.root)
    with pytest.raises(OrthoLensError):
        store.check()


def test_presign_upload_describes_a_signed_put(store: LocalObjectStore) -> None:
    target = store.presign_upload(KEY, content_type="Image/JPEG", max_size=1000, expires_in=60)
    assert target.method == "PUT"
    assert target.headers == {"Content-Type": "image/jpeg"}
    assert target.max_size == 1000
    assert target.url.startswith(f"http://testserver/api/storage/objects/{KEY}?")
