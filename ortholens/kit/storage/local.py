"""The embedded object store: a directory of files encrypted at rest with AES-256-GCM.

File format (all integers big-endian):

    header   MAGIC (8 bytes) | salt (16 random bytes)
    data     chunk_0 ... chunk_{n-1}   each AES-GCM(64 KiB of plaintext) + 16-byte tag; the last
                                       one may be shorter, none is empty
    meta     AES-GCM(JSON {"size", "sha256", "content_type"}) + tag
    trailer  length of the sealed meta chunk (uint32)

Each object has its own AES key, HKDF-SHA256(master key, salt). Chunk `i` uses the nonce
`i` (11 bytes) | final flag (1 byte); only the meta chunk, which always comes last, has the flag
set, so dropping, reordering or truncating chunks fails authentication. The associated data of every
chunk is header + object key: a file copied to another key's path does not decrypt. `head()` reads
the header, trailer and meta chunk only.

Writes go to a temporary file under `root/.tmp/` and are published with `os.link`, which fails when
the key exists: objects are never overwritten and a failed write leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ortholens.kit.errors import ConfigurationError, InvalidInput, ServiceUnavailable
from ortholens.kit.storage.base import (
    ObjectCorrupt,
    ObjectExists,
    ObjectInfo,
    ObjectMissing,
    ObjectStore,
    UploadTarget,
)
from ortholens.kit.storage.keys import validate_content_type, validate_key
from ortholens.kit.storage.signing import UrlSigner

MAGIC = b"OLOBJ\x00\x00\x01"
SALT_BYTES = 16
HEADER_BYTES = len(MAGIC) + SALT_BYTES
CHUNK_BYTES = 64 * 1024
TAG_BYTES = 16
SEALED_CHUNK_BYTES = CHUNK_BYTES + TAG_BYTES
TRAILER = struct.Struct(">I")
MAX_SEALED_META_BYTES = 4096
OBJECT_KEY_INFO = b"ortholens-object-v1"
TEMP_DIR_NAME = ".tmp"
# A temporary file this old belongs to a process that died mid-write (a put takes seconds).
STALE_TEMP_SECONDS = 24 * 3600


class _ObjectCipher:
    """AES-256-GCM for the chunks of one object."""

    def __init__(self, master_key: bytes, header: bytes, key: str) -> None:
        salt = header[len(MAGIC) :]
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=salt, info=OBJECT_KEY_INFO
        ).derive(master_key)
        self._aead = AESGCM(derived)
        self._aad = header + key.encode()

    @staticmethod
    def _nonce(counter: int, final: bool) -> bytes:
        return counter.to_bytes(11, "big") + (b"\x01" if final else b"\x00")

    def seal(self, counter: int, plaintext: bytes, *, final: bool) -> bytes:
        return self._aead.encrypt(self._nonce(counter, final), plaintext, self._aad)

    def open(self, counter: int, sealed: bytes, *, final: bool) -> bytes:
        try:
            return self._aead.decrypt(self._nonce(counter, final), sealed, self._aad)
        except InvalidTag as exc:
            raise ObjectCorrupt("The stored object failed authentication.") from exc


def _read_full(source: BinaryIO, size: int) -> bytes:
    """Up to `size` bytes; fewer only at end of stream (raw streams may return short reads)."""
    parts: list[bytes] = []
    remaining = size
    while remaining:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _data_length(size: int) -> int:
    """Bytes of sealed data chunks for `size` bytes of plaintext."""
    full, rest = divmod(size, CHUNK_BYTES)
    return full * SEALED_CHUNK_BYTES + (rest + TAG_BYTES if rest else 0)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalObjectStore(ObjectStore):
    """Encrypted, immutable objects under `root`; signed URLs point at `ortholens.storage`."""

    def __init__(self, *, root: Path, encryption_key: bytes, signer: UrlSigner) -> None:
        if len(encryption_key) != 32:
            raise ConfigurationError("The storage encryption key must be 32 bytes (AES-256).")
        self.root = root
        self.temp_dir = root / TEMP_DIR_NAME
        self.signer = signer
        self._master_key = encryption_key
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.temp_dir.mkdir(mode=0o700, exist_ok=True)
        self._remove_stale_temp_files()

    def _remove_stale_temp_files(self) -> None:
        cutoff = time.time() - STALE_TEMP_SECONDS
        for entry in self.temp_dir.iterdir():
            try:
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    entry.unlink()
            except OSError:
                continue  # another process got there first; not our problem at start-up

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    # Writing

    def put(self, key: str, data: bytes | BinaryIO, *, content_type: str) -> ObjectInfo:
        """Encrypt `data` (bytes or a binary file read in 64 KiB chunks) into a new object."""
        final_path = self._path(key)
        content_type = validate_content_type(content_type)
        if final_path.exists():  # early, cheap refusal; os.link below is the real guard
            raise ObjectExists("An object with this key already exists.")
        source: BinaryIO = (
            io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data
        )
        fd, temp_name = tempfile.mkstemp(dir=self.temp_dir, prefix="put-")  # mode 0600
        temp_path = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                info = self._write_encrypted(key, source, out, content_type)
                out.flush()
                os.fsync(out.fileno())
            created = self._make_parents(final_path)
            try:
                os.link(temp_path, final_path)
            except FileExistsError as exc:
                raise ObjectExists("An object with this key already exists.") from exc
            # Make the new name (and any new directories) durable before reporting success.
            for directory in {final_path.parent, *(path.parent for path in created)}:
                _fsync_dir(directory)
        finally:
            temp_path.unlink(missing_ok=True)
        return info

    def _write_encrypted(
        self, key: str, source: BinaryIO, out: BinaryIO, content_type: str
    ) -> ObjectInfo:
        header = MAGIC + os.urandom(SALT_BYTES)
        cipher = _ObjectCipher(self._master_key, header, key)
        out.write(header)
        digest = hashlib.sha256()
        size = counter = 0
        while block := _read_full(source, CHUNK_BYTES):
            digest.update(block)
            size += len(block)
            out.write(cipher.seal(counter, block, final=False))
            counter += 1
        info = ObjectInfo(key=key, size=size, sha256=digest.hexdigest(), content_type=content_type)
        meta = json.dumps(
            {"size": info.size, "sha256": info.sha256, "content_type": info.content_type}
        ).encode()
        sealed_meta = cipher.seal(counter, meta, final=True)
        out.write(sealed_meta)
        out.write(TRAILER.pack(len(sealed_meta)))
        return info

    def _make_parents(self, path: Path) -> list[Path]:
        """Create the directories above `path` (mode 0700); return those that were new."""
        created: list[Path] = []
        current = self.root
        for part in path.relative_to(self.root).parts[:-1]:
            current = current / part
            try:
                current.mkdir(mode=0o700)
                created.append(current)
            except FileExistsError:
                if not current.is_dir():
                    raise InvalidInput("This key runs through an existing object.") from None
        return created

    # Reading

    def _open(self, key: str) -> tuple[BinaryIO, _ObjectCipher, ObjectInfo]:
        """Open an object and authenticate its header and meta chunk."""
        try:
            handle: BinaryIO = self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectMissing("No object exists with this key.") from exc
        try:
            return (handle, *self._read_meta(key, handle))
        except BaseException:
            handle.close()
            raise

    def _read_meta(self, key: str, handle: BinaryIO) -> tuple[_ObjectCipher, ObjectInfo]:
        file_size = os.fstat(handle.fileno()).st_size
        header = handle.read(HEADER_BYTES)
        if len(header) != HEADER_BYTES or not header.startswith(MAGIC):
            raise ObjectCorrupt("The stored object has no valid header.")
        if file_size < HEADER_BYTES + TRAILER.size:
            raise ObjectCorrupt("The stored object is truncated.")
        handle.seek(file_size - TRAILER.size)
        (meta_length,) = TRAILER.unpack(handle.read(TRAILER.size))
        data_length = file_size - TRAILER.size - meta_length - HEADER_BYTES
        if not TAG_BYTES < meta_length <= MAX_SEALED_META_BYTES or data_length < 0:
            raise ObjectCorrupt("The stored object is truncated.")
        cipher = _ObjectCipher(self._master_key, header, key)
        chunks = -(-data_length // SEALED_CHUNK_BYTES)
        handle.seek(HEADER_BYTES + data_length)
        meta = json.loads(cipher.open(chunks, handle.read(meta_length), final=True))
        info = ObjectInfo(
            key=key, size=meta["size"], sha256=meta["sha256"], content_type=meta["content_type"]
        )
        if _data_length(info.size) != data_length:
            raise ObjectCorrupt("The stored object does not match its recorded size.")
        return cipher, info

    def iter_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Decrypted plaintext in pieces of about `chunk_size` bytes.

        Missing or unreadable objects raise here, before the first chunk; a chunk that fails
        authentication raises ObjectCorrupt while iterating, before its bytes are returned.
        """
        return self.stream(key, chunk_size)[1]

    def stream(self, key: str, chunk_size: int = 1 << 20) -> tuple[ObjectInfo, Iterator[bytes]]:
        """`head()` and `iter_chunks()` with one open: what an HTTP download needs up front."""
        handle, cipher, info = self._open(key)
        return info, self._decrypt(handle, cipher, info, chunk_size)

    @staticmethod
    def _decrypt(
        handle: BinaryIO, cipher: _ObjectCipher, info: ObjectInfo, chunk_size: int
    ) -> Iterator[bytes]:
        with handle:
            handle.seek(HEADER_BYTES)
            remaining = _data_length(info.size)
            pending = bytearray()
            counter = 0
            while remaining:
                sealed = handle.read(min(SEALED_CHUNK_BYTES, remaining))
                if len(sealed) != min(SEALED_CHUNK_BYTES, remaining):
                    raise ObjectCorrupt("The stored object is truncated.")
                remaining -= len(sealed)
                pending += cipher.open(counter, sealed, final=False)
                counter += 1
                if len(pending) >= chunk_size:
                    yield bytes(pending)
                    pending.clear()
            if pending:
                yield bytes(pending)

    def head(self, key: str) -> ObjectInfo | None:
        """Size (bytes), SHA-256 (hex) and content type, from the authenticated meta chunk."""
        try:
            handle, _, info = self._open(key)
        except ObjectMissing:
            return None
        handle.close()
        return info

    def delete(self, key: str) -> None:
        """Remove an object; a missing one is fine. Directories stay (a put may be using them)."""
        try:
            self._path(key).unlink(missing_ok=True)
        except IsADirectoryError:
            return

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Keys under `prefix` in sorted order, skipping dot-named store internals."""
        directory = prefix.rpartition("/")[0]
        start = self._path(directory) if directory else self.root
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
            relative = Path(dirpath).relative_to(self.root)
            for name in sorted(filenames):
                key = (relative / name).as_posix()
                if not name.startswith(".") and key.startswith(prefix):
                    yield key

    # Links and health

    def presign_upload(
        self, key: str, *, content_type: str, max_size: int, expires_in: int
    ) -> UploadTarget:
        """A signed PUT to `ortholens.storage.endpoints` for at most `max_size` bytes."""
        validate_key(key)
        content_type = validate_content_type(content_type)
        if max_size < 1:
            raise InvalidInput("The maximum upload size must be at least one byte.")
        expires_at = int(time.time()) + expires_in
        url = self.signer.sign(
            "PUT", key, expires_at=expires_at, max_size=max_size, content_type=content_type
        )
        return UploadTarget(
            url=url,
            method="PUT",
            expires_at=datetime.fromtimestamp(expires_at, UTC),
            max_size=max_size,
            headers={"Content-Type": content_type},
        )

    def presign_download(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        """A signed GET to `ortholens.storage.endpoints`; `filename` makes it an attachment."""
        validate_key(key)
        return self.signer.sign(
            "GET", key, expires_at=int(time.time()) + expires_in, filename=filename
        )

    def check(self) -> None:
        """Raise ServiceUnavailable unless the object directory exists and is writable."""
        try:
            fd, name = tempfile.mkstemp(dir=self.temp_dir, prefix="check-")
            os.close(fd)
            os.unlink(name)
        except OSError as exc:
            raise ServiceUnavailable("The object directory is missing or not writable.") from exc
