"""The portal invitation e-mail job (`ortholens.patient_auth.invite_mail` queues it).

Delivery is at least once: a worker that dies after the SMTP server took the message but before
the job's success commits sends it again on the retry, which for an invitation is harmless.
"""

from __future__ import annotations

import smtplib
import uuid
from typing import Any

from ortholens.audit import service as audit
from ortholens.clinic import repository as clinic_repository
from ortholens.kit.db import utcnow
from ortholens.kit.errors import InvalidInput
from ortholens.kit.jobs import JobContext, job_handler
from ortholens.kit.mail import send_message, smtp_config
from ortholens.patient_auth import repository
from ortholens.patient_auth.invite_mail import JOB, InviteEmail, compose, unseal_invite_url

SEND_ATTEMPTS = 5


@job_handler(JOB, max_attempts=SEND_ATTEMPTS)
def send_invite_email(ctx: JobContext, invite_id: str, sealed_url: str) -> dict[str, Any]:
    """E-mail an open invitation's link to the address it was made for."""
    config = smtp_config(ctx.resources.settings)
    if config is None:
        return {"sent": False, "reason": "smtp-not-configured"}
    key: bytes = ctx.resources.secrets.storage_encryption_key
    invite_uuid = uuid.UUID(invite_id)
    with ctx.snapshot() as db:
        invite = repository.get_invite(db, invite_uuid)
        if invite is None:
            return {"sent": False, "reason": "invite-gone"}
        if invite.used_at or invite.voided_at or invite.expires_at <= utcnow() or not invite.email:
            return {"sent": False, "reason": "invite-closed"}
        patient = repository.get_patient(db, invite.patient_id)
        clinic = clinic_repository.get_clinic(db, invite.clinic_id)
        if patient is None or clinic is None:
            return {"sent": False, "reason": "invite-gone"}
        mail = InviteEmail(
            first_name=patient.first_name,
            clinic_name=clinic.name,
            invite_url=unseal_invite_url(key, invite_uuid, sealed_url),
            expires_at=invite.expires_at,
        )
        to, clinic_id, patient_id = invite.email, invite.clinic_id, invite.patient_id
    message = compose(config, to, mail)
    try:
        send_message(config, message)
    except smtplib.SMTPRecipientsRefused as refused:
        # The server will not take this address: retrying cannot help.
        raise InvalidInput("The mail server refused the invitation's address.") from refused
    audit.record(
        ctx.session,
        audit.SYSTEM,
        "patient.invite_email",
        clinic_id=clinic_id,
        target_type="patient",
        target_id=patient_id,
        details={"invite_id": invite_id, "job_id": str(ctx.job_id)},
    )
    return {"sent": True}
