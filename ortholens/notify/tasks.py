"""Push delivery jobs and the listeners that request them.

scan.reviewed / message.sent (from the clinic) -> notify.push (one patient)
notify.push -> one notify.send per subscription, so each retries (with backoff) on its own
               and a device that already got the message never gets it twice
notify.scan_reminders (hourly; acts from ORTHOLENS_SCAN_REMINDER_HOUR, UTC) -> notify.push
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from ortholens.events import MESSAGE_SENT, SCAN_REVIEWED
from ortholens.kit import events
from ortholens.kit.db import utcnow
from ortholens.kit.jobs import JobContext, job_handler, periodic, request_job
from ortholens.models import SenderType
from ortholens.notify import repository, service
from ortholens.notify.webpush import PushPayload, PushResult, PushTarget, send_push

SEND_ATTEMPTS = 6


def request_push(
    session: Session, patient_id: uuid.UUID, clinic_id: uuid.UUID, payload: PushPayload
) -> None:
    """Queue a notification to every device of the patient (sent after `session` commits)."""
    if repository.has_subscriptions(session, patient_id):
        request_job(
            session,
            "notify.push",
            {"patient_id": str(patient_id), "payload": _payload_args(payload)},
            clinic_id=clinic_id,
        )


def _payload_args(payload: PushPayload) -> dict[str, Any]:
    return {"title": payload.title, "body": payload.body, "url": payload.url, "tag": payload.tag}


@events.on(SCAN_REVIEWED)
def _on_scan_reviewed(
    session: Session, *, patient_id: uuid.UUID, clinic_id: uuid.UUID, status: str, **_: Any
) -> None:
    request_push(session, patient_id, clinic_id, service.scan_reviewed_payload(status))


@events.on(MESSAGE_SENT)
def _on_message_sent(
    session: Session,
    *,
    patient_id: uuid.UUID,
    clinic_id: uuid.UUID,
    thread_id: uuid.UUID,
    sender_type: str,
    **_: Any,
) -> None:
    if sender_type != SenderType.PATIENT.value:
        request_push(session, patient_id, clinic_id, service.message_payload(thread_id))


@job_handler("notify.push", max_attempts=3)
def push_to_patient(ctx: JobContext, patient_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Fan out: one `notify.send` job per subscription of the patient."""
    rows = service.subscriptions_of(ctx.session, uuid.UUID(patient_id))
    for row in rows:
        request_job(
            ctx.session,
            "notify.send",
            {"subscription_id": str(row.id), "payload": payload},
            clinic_id=row.clinic_id,
        )
    return {"subscriptions": len(rows)}


@job_handler("notify.send", max_attempts=SEND_ATTEMPTS)
def send_one(ctx: JobContext, subscription_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Deliver one notification; a subscription the push service says is gone is deleted."""
    runtime = ctx.resources
    with ctx.snapshot() as read:
        row = repository.get_subscription(read, uuid.UUID(subscription_id))
        target = PushTarget(row.endpoint, row.p256dh, row.auth) if row is not None else None
    if target is None:
        return {"skipped": "subscription removed"}
    result = send_push(
        target,
        PushPayload(**payload),
        runtime.vapid,
        subject=runtime.settings.push_contact,
        allow_insecure_endpoints=runtime.settings.push_allow_insecure_endpoints,
    )
    if result is PushResult.GONE:
        repository.delete_subscription(ctx.session, uuid.UUID(subscription_id))
    elif result is PushResult.DELIVERED:
        found = repository.get_subscription(ctx.session, uuid.UUID(subscription_id))
        if found is not None:
            found.last_sent_at = utcnow()
    return {"result": result.name.lower()}


@job_handler("notify.scan_reminders", max_attempts=2)
def send_scan_reminders(ctx: JobContext, force: bool = False) -> dict[str, Any]:
    """Remind patients whose next check-in is due, once a day, from the configured hour on."""
    now = utcnow()
    if not force and now.hour < ctx.resources.settings.scan_reminder_hour:
        return {"skipped": "before the reminder hour"}
    reminded = 0
    for due in service.due_for_reminder(ctx.session, now):
        if service.claim_reminder(ctx.session, due.patient_id, now):
            request_push(ctx.session, due.patient_id, due.clinic_id, service.reminder_payload())
            reminded += 1
    return {"reminded": reminded}


periodic("notify.scan_reminders", minute="7")
