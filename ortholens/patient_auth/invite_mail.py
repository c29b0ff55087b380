"""Portal invitations by e-mail: the message a patient receives, and the job that sends it.

The invitation link holds the one-time token, which the database keeps only as a hash; so the link
travels to the `patient.invite_email` job sealed (AES-GCM with the storage key, bound to the
invitation's id) in the job's arguments, and the job drops it once the invitation is used, voided
or expired. Sending runs in the job, never in the request, and is retried by the queue.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from html import escape

from sqlalchemy.orm import Session

from ortholens.kit.crypto import seal, unseal
from ortholens.kit.jobs import request_job
from ortholens.kit.mail import SmtpConfig, build_message

JOB = "patient.invite_email"


@dataclass(frozen=True)
class InviteEmail:
    """What the e-mail says, without the address it goes to."""

    first_name: str
    clinic_name: str
    invite_url: str
    expires_at: datetime


def _context(invite_id: uuid.UUID) -> bytes:
    return b"invite-url:" + invite_id.bytes


def seal_invite_url(key: bytes, invite_id: uuid.UUID, url: str) -> str:
    return seal(key, url.encode(), context=_context(invite_id))


def unseal_invite_url(key: bytes, invite_id: uuid.UUID, sealed: str) -> str:
    return unseal(key, sealed, context=_context(invite_id)).decode()


def request_invite_email(
    session: Session, key: bytes, *, invite_id: uuid.UUID, clinic_id: uuid.UUID, invite_url: str
) -> uuid.UUID:
    """Queue the invitation e-mail (sent after `session` commits); returns the job's id."""
    job = request_job(
        session,
        JOB,
        {"invite_id": str(invite_id), "sealed_url": seal_invite_url(key, invite_id, invite_url)},
        clinic_id=clinic_id,
    )
    return job.id


def compose(config: SmtpConfig, to: str, mail: InviteEmail) -> EmailMessage:
    """The invitation e-mail: who invites, the link, until when it works; text and HTML."""
    until = mail.expires_at.strftime("%d %B %Y, %H:%M UTC")
    subject = f"{mail.clinic_name} invites you to your patient portal"
    text = (
        f"Hello {mail.first_name},\n\n"
        f"{mail.clinic_name} invites you to your patient portal, where you send your progress "
        "photos and read your orthodontist's messages.\n\n"
        f"Open this link to create your account:\n{mail.invite_url}\n\n"
        f"The link works once, until {until}. If you did not expect this e-mail, ignore it.\n"
    )
    html = (
        f"<p>Hello {escape(mail.first_name)},</p>"
        f"<p>{escape(mail.clinic_name)} invites you to your patient portal, where you send your "
        "progress photos and read your orthodontist's messages.</p>"
        f'<p><a href="{escape(mail.invite_url)}">Create your account</a></p>'
        f"<p>The link works once, until {escape(until)}. If you did not expect this e-mail, "
        "ignore it.</p>"
    )
    return build_message(config, to=to, subject=subject, text=text, html=html)
