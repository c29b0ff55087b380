"""Local object store throughput against a plain fsync'd file write + read + sha256sum.

Prints MB/s for both and the ratio (ours / reference time): the cost of encryption at rest,
checksumming and atomic publication over the bare disk path.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

from ortholens.kit.storage.local import LocalObjectStore
from ortholens.kit.storage.signing import UrlSigner

OBJECT_MB = 16
COUNT = 8


def reference(root: Path, payload: bytes) -> float:
    started = time.perf_counter()
    for i in range(COUNT):
        path = root / f"ref-{i}.bin"
        with path.open("wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        path.read_bytes()
    subprocess.run(
        ["sha256sum", *[str(root / f"ref-{i}.bin") for i in range(COUNT)]],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def ours(root: Path, payload: bytes) -> float:
    store = LocalObjectStore(
        root=root / "objects",
        encryption_key=secrets.token_bytes(32),
        signer=UrlSigner(secret=secrets.token_bytes(32), base_url="http://127.0.0.1"),
    )
    started = time.perf_counter()
    for i in range(COUNT):
        key = f"bench/obj-{i}/original.bin"
        store.put(key, payload, content_type="application/octet-stream")
        for _ in store.iter_chunks(key):
            pass
    return time.perf_counter() - started


def main() -> None:
    payload = secrets.token_bytes(OBJECT_MB << 20)
    total_mb = OBJECT_MB * COUNT
    with tempfile.TemporaryDirectory() as tmp:
        ref = reference(Path(tmp), payload)
        our = ours(Path(tmp), payload)
    print(f"reference (write+fsync, read, sha256sum): {total_mb / ref:8.1f} MB/s")
    print(f"LocalObjectStore (put, read back):        {total_mb / our:8.1f} MB/s")
    print(f"ratio ours/reference time: {our / ref:.2f}")


if __name__ == "__main__":
    main()
