"""Job handlers used by the queue tests (loaded by worker subprocesses via ORTHOLENS_JOB_MODULES).

`test.record_effect` does slow work in steps, then records one row in `test_job_effects` through the
job's own session: the number of rows per job shows how many times its effect was committed.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from ortholens.kit.errors import InvalidInput
from ortholens.kit.jobs import JobContext, job_handler

EFFECTS_DDL = "CREATE TABLE IF NOT EXISTS test_job_effects (job_id VARCHAR(36), attempt INTEGER)"


@job_handler("test.record_effect")
def record_effect(
    ctx: JobContext,
    steps: int = 1,
    step_seconds: float = 0.0,
    fail_times: int = 0,
    invalid: bool = False,
) -> dict[str, Any]:
    for step in range(steps):
        time.sleep(step_seconds)
        ctx.progress((step + 1) / (steps + 1), f"step {step + 1} of {steps}")
    if invalid:
        raise InvalidInput("This input can never be processed.")
    if ctx.attempt <= fail_times:
        raise RuntimeError(f"transient failure on attempt {ctx.attempt}")
    ctx.session.execute(
        sa.text("INSERT INTO test_job_effects (job_id, attempt) VALUES (:j, :a)"),
        {"j": str(ctx.job_id), "a": ctx.attempt},
    )
    return {"attempt": ctx.attempt}
