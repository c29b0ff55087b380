"""Running job consumers: embedded in `ortholens serve` or standalone in `ortholens worker`."""

from __future__ import annotations

import threading

import structlog

from ortholens.kit.jobs.queue import JobQueue

log = structlog.get_logger(__name__)


class Worker:
    """A Huey consumer (thread workers) plus the reaper that recovers jobs of dead workers."""

    def __init__(self, queue: JobQueue, *, threads: int, reaper_interval: float) -> None:
        self.queue = queue
        self.reaper_interval = reaper_interval
        self.consumer = queue.huey.create_consumer(
            workers=threads,
            worker_type="thread",
            periodic=True,
            initial_delay=0.05,
            max_delay=1.0,  # poll at least every second so an idle SQLite queue stays responsive
            check_worker_health=True,
        )
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap_forever, name="job-reaper", daemon=True)

    def _reap_forever(self) -> None:
        while True:
            try:
                self.queue.recover()
            except Exception:
                log.exception("job.reaper_failed")
            if self._stop.wait(self.reaper_interval):
                return

    def start(self) -> None:
        """Start consumer threads and the reaper without blocking (for the embedded worker)."""
        self.consumer.start()
        self._reaper.start()
        log.info("worker.started", worker=self.queue.worker_id)

    def stop(self) -> None:
        """Finish running jobs and stop."""
        self._stop.set()
        self.consumer.stop(graceful=True)
        self._reaper.join(timeout=5)
        log.info("worker.stopped", worker=self.queue.worker_id)

    def run_forever(self) -> None:
        """Run in the foreground until SIGINT/SIGTERM (for `ortholens worker`)."""
        self._reaper.start()
        log.info("worker.started", worker=self.queue.worker_id)
        try:
            self.consumer.run()
        finally:
            self._stop.set()
            self._reaper.join(timeout=5)
