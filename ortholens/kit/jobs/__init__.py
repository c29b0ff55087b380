"""Background jobs: durable state in the `jobs` table, delivery through Huey (SQLite or Redis)."""

from ortholens.kit.jobs.context import JobContext
from ortholens.kit.jobs.queue import JobQueue, QueuePolicy, build_huey, request_job
from ortholens.kit.jobs.record import Job, JobStatus
from ortholens.kit.jobs.registry import job_handler, periodic
from ortholens.kit.jobs.worker import Worker

__all__ = [
    "Job",
    "JobContext",
    "JobQueue",
    "JobStatus",
    "QueuePolicy",
    "Worker",
    "build_huey",
    "job_handler",
    "periodic",
    "request_job",
]
