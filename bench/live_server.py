"""A real `ortholens serve` on loopback for the benchmarks, ready when the block starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(env: dict[str, str], port: int, args: Sequence[str] = ()) -> Iterator[str]:
    """`ortholens serve` (embedded worker unless `args` say `--no-worker`) on 127.0.0.1:`port`
    until the block ends."""
    with live_server_process(env, port, args) as (base, _pid):
        yield base


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


@contextmanager
def live_server_process(
    env: dict[str, str], port: int, args: Sequence[str] = (), log: Path | None = None
) -> Iterator[tuple[str, int]]:
    """As `live_server`, with the server's process id (for `cpu_seconds`); the server's output
    goes to `log` when given (to find what an error answer was), else nowhere."""
    output = log.open("wb") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "ortholens", "serve", "--port", str(port), *args],
        env=env,
        cwd=REPO,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("the server did not become ready")
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:  # requests of an overloaded row still stuck inside it
            process.kill()
            process.wait()
        if log is not None and output is not subprocess.DEVNULL:
            output.close()
