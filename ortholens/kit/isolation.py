"""Run decoders of untrusted bytes in warm worker processes with a wall-time and a memory limit.

    pool = DecoderPool(IsolationLimits(timeout_seconds=60, memory_mb=1024, processes=2),
                       preload=["ortholens.processing.photos"])
    result = pool.run(decode, data)   # DecoderFailed if it crashes, hangs or allocates too much
    pool.close()

A native decoder (libjpeg, libheif, libvips, a mesh parser) that segfaults, loops or allocates
without bound on a hostile file would take down the whole server or worker if it ran in-process.
Here it runs in a `pebble` process pool: a crashed worker is replaced, a task past its time limit is
killed (SIGTERM, then SIGKILL), and a worker caps its own address space (`RLIMIT_AS`) while it runs
a call, so a runaway allocation ends in a `MemoryError` inside the worker. Each of these fails the one call with
a `DecoderFailed` (an `InvalidInput`: the same bytes fail the same way, so a job is not retried).

Workers are forked from a `forkserver` that imported the `preload` modules once, so a worker starts
in milliseconds with numpy, Pillow or trimesh already loaded, and never inherits the parent's
threads, database connections or queue consumers (which `fork` from the parent would copy in a
broken state). The function and its arguments and result cross the process boundary by pickle:
the function must be defined at module level, and its arguments and result picklable.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import pickle
import resource
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import structlog
from pebble import ProcessExpired, ProcessPool

from ortholens.kit.errors import DecoderFailed, OrthoLensError

__all__ = ["DecoderFailed", "DecoderPool", "IsolationLimits"]

log = structlog.get_logger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_CANNOT_READ = "The file could not be read: "
_ADVICE = " The file is probably damaged or not what it claims to be; export it again and retry."


# How many fresh pools a call is given when its worker breaks the pool (see `DecoderPool.run`).
_BROKEN_POOL_TRIES = 3


@dataclass(frozen=True)
class IsolationLimits:
    """Limits of one isolated call and the size of the pool."""

    timeout_seconds: float = 60.0  # wall time of one call, from the moment a worker starts it
    memory_mb: int = 1024  # address space a call may add to a warm worker
    processes: int = 2  # calls that can run at once; more wait for a free worker


class DecoderPool:
    """A pool of warm worker processes that run module-level functions under `IsolationLimits`.

    With `isolated=False` calls run in the calling process without limits: for debugging and for
    measuring what isolation costs; never for untrusted input in production.
    """

    def __init__(
        self,
        limits: IsolationLimits,
        *,
        preload: Sequence[str] = (),
        isolated: bool = True,
    ) -> None:
        self.limits = limits
        self.preload = tuple(preload)
        self.isolated = isolated
        self._pool: ProcessPool | None = None
        self._lock = threading.Lock()
        self._closed = False

    def run(self, func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call `func(*args, **kwargs)` in a worker; its result, its own exception, or DecoderFailed."""
        if not self.isolated:
            return func(*args, **kwargs)
        # A worker that dies before pebble has seen it take the call (a decoder that crashes at
        # once) breaks the whole pool ("All workers expired") instead of failing the call with its
        # exit code. The steps are pure functions, so the call is made again on a fresh pool; a
        # decoder that breaks every pool it is given has crashed, whatever pebble saw.
        for _ in range(_BROKEN_POOL_TRIES - 1):
            try:
                return self._run_once(func, args, kwargs)
            except BrokenProcessPool:
                log.warning("decoder.pool_broken", decoder=_name(func))
        try:
            return self._run_once(func, args, kwargs)
        except BrokenProcessPool:
            raise self._failure(
                "crashed", "the decoder's process ended before it answered.", func
            ) from None

    def _run_once(self, func: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
        pool = self._started()
        try:
            future = pool.schedule(
                _call_in_worker,
                args=(func, args, kwargs, self.limits.memory_mb),
                timeout=self.limits.timeout_seconds,
            )
        except RuntimeError:
            # pebble stopped the pool after an internal error: start a fresh one, once.
            self._discard(pool)
            pool = self._started()
            future = pool.schedule(
                _call_in_worker,
                args=(func, args, kwargs, self.limits.memory_mb),
                timeout=self.limits.timeout_seconds,
            )
        try:
            # pebble enforces the limit; the wait here is only a backstop for a call pebble lost
            # (a worker that died while receiving its input), so a job can never wait forever.
            result: R = future.result(timeout=self._backstop_seconds())
        except BrokenProcessPool:
            self._discard(pool)
            raise
        except FutureTimeout:
            future.cancel()  # type: ignore[no-untyped-call]  # stops a worker still on it
            raise self._failure(
                "timeout",
                f"the decoder did not finish within {self.limits.timeout_seconds:g} s.",
                func,
            ) from None
        except ProcessExpired as exc:
            raise self._failure("crashed", _how_it_ended(exc.exitcode), func) from None
        except MemoryError:
            raise self._failure(
                "memory",
                f"the decoder needed more than {self.limits.memory_mb} MB of memory.",
                func,
            ) from None
        return result

    def warm_up(self) -> None:
        """Start the fork server and the workers now, in the background, so that the first file a
        worker process handles does not wait seconds for the decoders to be imported."""
        if self.isolated:
            threading.Thread(target=self._warm, name="decoder-warm-up", daemon=True).start()

    def _warm(self) -> None:
        try:
            for _ in range(self.limits.processes):
                self.run(os.getpid)
        except Exception:  # a closed pool or a failed start is reported by the first real call
            log.warning("decoder.warm_up_failed")

    def _backstop_seconds(self) -> float:
        # Room for one call ahead of this one in the queue on every worker, plus start-up.
        return 2 * self.limits.timeout_seconds + 30

    def close(self) -> None:
        """Stop the workers (a call still running is abandoned); later calls are refused."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()  # type: ignore[no-untyped-call]
            pool.join(timeout=10)

    def __enter__(self) -> DecoderPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _started(self) -> ProcessPool:
        """The running pool, started on first use."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the decoder pool is closed")
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                # Takes effect only when this process starts its fork server (the first pool);
                # workers import whatever it missed in `_prepare_worker`. `__main__` (the script
                # or console entry point, import-guarded) is loaded there once, not per worker.
                context.set_forkserver_preload(["__main__", *self.preload])
                self._pool = ProcessPool(
                    max_workers=self.limits.processes,
                    initializer=_prepare_worker,
                    initargs=(self.preload,),
                    context=context,
                )
            return self._pool

    def _discard(self, pool: ProcessPool) -> None:
        """Forget a pool pebble gave up on, so that the next call starts a new one."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.stop()  # type: ignore[no-untyped-call]

    def _failure(self, cause: str, what: str, func: Callable[..., Any]) -> DecoderFailed:
        log.warning("decoder.failed", cause=cause, decoder=_name(func), reason=what)
        return DecoderFailed(_CANNOT_READ + what + _ADVICE, cause=cause)


def _name(func: Callable[..., Any]) -> str:
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"


def _how_it_ended(exitcode: int | None) -> str:
    """ "the decoder crashed (signal 11, SIGSEGV)." from a worker's exit code (negative: a signal)."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        return f"the decoder crashed (signal {-exitcode}, {name})."
    return f"the decoder stopped unexpectedly (exit code {exitcode})."


def _prepare_worker(preload: Sequence[str]) -> None:
    """In each new worker: import the decoders (already done when the fork server had them)."""
    for module in preload:
        importlib.import_module(module)


def _address_space_bytes() -> int:
    """This process's virtual size (what RLIMIT_AS counts); 0 where /proc is not available."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


@contextmanager
def _memory_budget(memory_mb: int) -> Iterator[None]:
    """Cap the address space at what the worker maps now plus `memory_mb`, for one call.

    Counted on top of the present because a warm interpreter already maps several hundred MB
    (shared libraries, BLAS thread buffers) and the call's input has just been unpickled; the
    cap is lifted again after the call so the result can be pickled and the next input received.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space_bytes() + memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _call_in_worker(
    func: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any], memory_mb: int
) -> R:
    """Run the call under the memory budget; make sure what it raises can travel back."""
    try:
        with _memory_budget(memory_mb):
            return func(*args, **kwargs)
    except (OrthoLensError, MemoryError):
        raise
    except Exception as exc:
        # An exception the parent cannot unpickle would break the whole pool (every call in
        # flight fails), so send such a one as its text.
        try:
            pickle.loads(pickle.dumps(exc))  # noqa: S301  (our own bytes, a round trip)
        except Exception:
            raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
        raise
