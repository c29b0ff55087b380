"""Serve an ASGI app with uvicorn in a background thread, for tests that need a real HTTP peer
(the live OrthoLens server, the stand-ins for the Messages API, a push service and iTero)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

START_TIMEOUT_S = 20.0


def listening_socket() -> socket.socket:
    """A socket bound to 127.0.0.1 on a free port, already listening (no race for the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@contextmanager
def serve_in_thread(
    app: Any, *, name: str, sock: socket.socket | None = None, lifespan: str = "off"
) -> Iterator[str]:
    """Run `app` until the block ends; yields its base URL (`http://127.0.0.1:<port>`)."""
    sock = sock or listening_socket()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_config=None,  # keep the test's logging configuration
            access_log=False,
            lifespan=lifespan,
            timeout_graceful_shutdown=5,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {name} server did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_S)
        sock.close()
