"""Isolated decoders: a crash, a hang or a runaway allocation fails one call, and the pool goes on."""

from __future__ import annotations

import os
import pickle
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool

import pytest

from ortholens.kit.errors import DecoderFailed, InvalidInput, PayloadTooLarge
from ortholens.kit.isolation import DecoderPool, IsolationLimits
from tests.kit import isolation_decoders

# One worker, so "the next call works" is answered by the replacement of the worker that died.
LIMITS = IsolationLimits(timeout_seconds=1.0, memory_mb=200, processes=1)


@pytest.fixture(scope="module")
def pool() -> Iterator[DecoderPool]:
    with DecoderPool(LIMITS, preload=["tests.kit.isolation_decoders"]) as decoders:
        yield decoders


def still_works(pool: DecoderPool) -> None:
    assert pool.run(isolation_decoders.echo, b"next file")["length"] == 9


def test_a_call_runs_in_a_warm_worker_process(pool: DecoderPool) -> None:
    first = pool.run(isolation_decoders.echo, b"abc")
    again = pool.run(isolation_decoders.echo, b"abcd")
    assert first["length"] == 3 and again["length"] == 4
    assert first["pid"] != os.getpid()
    assert again["pid"] == first["pid"]  # reused, not started per call


@pytest.mark.parametrize(
    ("decoder", "reason"),
    [
        (isolation_decoders.segfault, "the decoder crashed (signal 11, SIGSEGV)"),
        (isolation_decoders.abort, "the decoder crashed (signal 6, SIGABRT)"),
    ],
    ids=["segfault", "abort"],
)
def test_a_crashing_decoder_fails_the_call_and_is_replaced(
    pool: DecoderPool, decoder: Callable[[bytes], None], reason: str
) -> None:
    with pytest.raises(DecoderFailed, match=re.escape(reason)) as err:
        pool.run(decoder, b"hostile")
    assert err.value.extra == {"cause": "crashed"}
    still_works(pool)


def test_a_hanging_decoder_is_killed_at_the_time_limit(pool: DecoderPool) -> None:
    with pytest.raises(DecoderFailed, match="did not finish within 1 s") as err:
        pool.run(isolation_decoders.hang, b"endless")
    assert err.value.extra == {"cause": "timeout"}
    still_works(pool)


def test_a_runaway_allocation_fails_at_the_memory_limit(pool: DecoderPool) -> None:
    with pytest.raises(DecoderFailed, match="needed more than 200 MB of memory") as err:
        pool.run(isolation_decoders.allocate_2gb, b"forged header")
    assert err.value.extra == {"cause": "memory"}
    still_works(pool)


def test_the_reasons_tell_a_user_what_to_do(pool: DecoderPool) -> None:
    with pytest.raises(DecoderFailed) as err:
        pool.run(isolation_decoders.segfault, b"hostile")
    assert err.value.detail.startswith("The file could not be read: ")
    assert "export it again" in err.value.detail
    # An InvalidInput: job wrappers fail the job at once instead of retrying the same bytes.
    assert isinstance(err.value, InvalidInput) and err.value.status_code == 422


def test_a_decoders_own_refusal_arrives_as_it_was_raised(pool: DecoderPool) -> None:
    with pytest.raises(InvalidInput, match=r"This is not a photo\.") as err:
        pool.run(isolation_decoders.refuse, b"text")
    assert not isinstance(err.value, DecoderFailed)
    assert err.value.extra == {"field": "file"}


def test_an_exception_that_cannot_be_pickled_comes_back_as_text(pool: DecoderPool) -> None:
    with pytest.raises(RuntimeError, match="_Unpicklable: two"):
        pool.run(isolation_decoders.raise_unpicklable, b"x")
    still_works(pool)


def test_our_errors_keep_their_detail_and_extras_across_processes() -> None:
    error = PayloadTooLarge("Photos are limited to 40 MB.", limit_bytes=40)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is PayloadTooLarge
    assert (copy.detail, copy.extra) == (error.detail, error.extra)


def test_in_process_mode_runs_in_the_caller() -> None:
    with DecoderPool(LIMITS, isolated=False) as in_process:
        assert in_process.run(isolation_decoders.echo, b"abc")["pid"] == os.getpid()


def test_a_closed_pool_refuses_calls() -> None:
    decoders = DecoderPool(LIMITS)
    assert decoders.run(isolation_decoders.echo, b"abc")["length"] == 3
    decoders.close()
    with pytest.raises(RuntimeError, match="closed"):
        decoders.run(isolation_decoders.echo, b"abc")


def test_warm_up_starts_the_workers_before_the_first_file() -> None:
    """A worker warms its pool when it starts, so the first photo does not pay for the imports."""
    with DecoderPool(LIMITS, preload=["tests.kit.isolation_decoders"]) as decoders:
        decoders.warm_up()
        warm = threading.Event()
        watcher = threading.Thread(target=lambda: _wait_started(decoders, warm), daemon=True)
        watcher.start()
        assert warm.wait(timeout=120), "the warm-up never started the pool"
        assert decoders.run(isolation_decoders.echo, b"abc")["pid"] != os.getpid()


def test_warm_up_of_an_in_process_pool_starts_nothing() -> None:
    with DecoderPool(LIMITS, isolated=False) as decoders:
        decoders.warm_up()
        assert not [t for t in threading.enumerate() if t.name == "decoder-warm-up"]


def _wait_started(decoders: DecoderPool, warm: threading.Event) -> None:
    while decoders._pool is None:  # the pool exists once the warm-up's first call was scheduled
        threading.Event().wait(0.05)
    warm.set()


class _BreaksPools(DecoderPool):
    """A pool whose first `breaks` calls end as pebble ends a call whose worker died before it
    was seen taking it: the whole pool broken ("All workers expired"), no exit code."""

    def __init__(self, breaks: int) -> None:
        super().__init__(LIMITS, preload=["tests.kit.isolation_decoders"])
        self.breaks = breaks

    def _run_once(self, func, args, kwargs):  # type: ignore[no-untyped-def]
        if self.breaks:
            self.breaks -= 1
            raise BrokenProcessPool("All workers expired")
        return super()._run_once(func, args, kwargs)


def test_a_broken_pool_is_replaced_and_the_call_made_again() -> None:
    with _BreaksPools(breaks=2) as pool:
        assert pool.run(isolation_decoders.echo, b"abc")["length"] == 3


def test_a_decoder_that_breaks_every_pool_has_crashed() -> None:
    with _BreaksPools(breaks=3) as pool:
        with pytest.raises(DecoderFailed, match="ended before it answered") as err:
            pool.run(isolation_decoders.echo, b"abc")
        assert err.value.extra == {"cause": "crashed"}
        assert pool.run(isolation_decoders.echo, b"next")["length"] == 4
