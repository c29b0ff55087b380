"""Portal invitations by e-mail, against a real SMTP server (aiosmtpd on loopback): the staff page
queues a job, the job hands the message to the server, and the link in it registers the patient."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.app import create_app
from ortholens.auth.deps import CSRF_COOKIE
from ortholens.kit.jobs import JobStatus
from ortholens.kit.jobs.record import Job
from ortholens.models import AuditEvent, Clinic, Patient, Role, User
from ortholens.patient_auth.invite_mail import JOB
from ortholens.runtime import Runtime, build_runtime
from tests.conftest import make_settings
from tests.factories import PASSWORD, create_clinic, create_patient, create_user
from tests.fixtures.jobs import run_jobs

SMTP_USER, SMTP_PASSWORD = "ortholens", "mail-password"
# The test server asks for a sign-in without TLS (loopback only), which aiosmtpd warns about.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@dataclass
class Inbox:
    """What the test SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A plain SMTP server on 127.0.0.1 that wants a sign-in (without TLS: loopback only)."""
    handler = Inbox()
    port = _free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield handler, port
    controller.stop()


def _runtime(tmp_path: Path, database_url: str, port: int, **overrides: object) -> Runtime:
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "smtp_username": SMTP_USER,
        "smtp_password": SMTP_PASSWORD,
        "smtp_from": "Smile Clinic <portal@smile.example>",
    }
    values.update(overrides)
    return build_runtime(make_settings(tmp_path, database_url, **values))


def _signed_in(client: TestClient, user: User) -> TestClient:
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": client.cookies[CSRF_COOKIE]},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def _invite(client: TestClient, patient: Patient, address: str) -> str:
    response = client.post(
        f"/patients/{patient.id}/invite",
        data={"csrf_token": client.cookies[CSRF_COOKIE], "email": address},
        headers={"HX-Request": "true"},
        follow_redirects=False,
    )
    assert response.status_code == 200, response.text
    return response.text


def _doctor(runtime: Runtime) -> tuple[Clinic, User]:
    clinic = create_clinic(runtime, name="Smile Clinic")
    return clinic, create_user(runtime, clinic, Role.DOCTOR)


def _jobs(runtime: Runtime) -> list[Job]:
    with runtime.session_factory() as session:
        return list(session.scalars(select(Job).where(Job.name == JOB)))


def test_the_invite_email_arrives_with_a_link_that_registers(
    tmp_path: Path, database_url: str, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    runtime = _runtime(tmp_path, database_url, port)
    try:
        clinic, doctor = _doctor(runtime)
        patient = create_patient(runtime, clinic, first_name="Ines")
        with TestClient(create_app(runtime), base_url="https://testserver") as client:
            panel = _invite(_signed_in(client, doctor), patient, "Ines.Patient@Example.org")
            assert "on its way to" in panel and "ines.patient@example.org" in panel
            assert "<svg" in panel  # the QR code for the chairside hand-over
            shown = re.search(r'value="(http://testserver/register/[0-9a-f]{64})"', panel)
            assert shown
            # Sending is a job: nothing has reached the server while the request answered.
            assert handler.messages == []
            assert [job.status for job in _jobs(runtime)] == [JobStatus.QUEUED]

            run_jobs(runtime, JOB)

            assert [job.status for job in _jobs(runtime)] == [JobStatus.SUCCEEDED]
            assert handler.recipients == [["ines.patient@example.org"]]
            (message,) = handler.messages
            assert message["From"] == "Smile Clinic <portal@smile.example>"
            assert message["Subject"] == "Smile Clinic invites you to your patient portal"
            body = message.get_body(("plain",))
            assert body is not None
            text = body.get_content()
            assert "Hello Ines" in text
            mailed = re.search(r"http://testserver/register/[0-9a-f]{64}", text)
            assert mailed and mailed.group(0) == shown.group(1)  # the very link on the panel

            # The mailed link opens the registration for this patient.
            client.cookies.clear()
            landing = client.get(mailed.group(0).removeprefix("http://testserver"))
            assert landing.status_code == 200
            assert "Hello, Ines" in landing.text
        with runtime.session_factory() as session:
            actions = session.scalars(
                select(AuditEvent.action).where(AuditEvent.target_id == patient.id)
            ).all()
            assert "patient.invite_email" in actions
            details = session.scalars(
                select(AuditEvent.details).where(AuditEvent.action == "patient.invite_email")
            ).all()
            assert all("example.org" not in str(d) for d in details)  # no address in the trail
    finally:
        runtime.close()


def test_a_replaced_invitation_is_not_mailed(
    tmp_path: Path, database_url: str, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    runtime = _runtime(tmp_path, database_url, port)
    try:
        clinic, doctor = _doctor(runtime)
        patient = create_patient(runtime, clinic, first_name="Ines")
        with TestClient(create_app(runtime), base_url="https://testserver") as client:
            _signed_in(client, doctor)
            _invite(client, patient, "first@example.org")
            _invite(client, patient, "second@example.org")  # voids the first link
            run_jobs(runtime, JOB)
        assert handler.recipients == [["second@example.org"]]
    finally:
        runtime.close()


def test_starttls_is_required_unless_turned_off(
    tmp_path: Path, database_url: str, inbox: tuple[Inbox, int]
) -> None:
    """With the default `starttls`, a server that offers no STARTTLS gets nothing in the clear."""
    handler, port = inbox
    runtime = _runtime(tmp_path, database_url, port, smtp_security="starttls")
    try:
        clinic, doctor = _doctor(runtime)
        patient = create_patient(runtime, clinic, first_name="Ines")
        with TestClient(create_app(runtime), base_url="https://testserver") as client:
            _invite(_signed_in(client, doctor), patient, "ines@example.org")
            run_jobs(runtime, JOB)
        (job,) = _jobs(runtime)
        assert job.status is not JobStatus.SUCCEEDED
        assert job.error and "STARTTLS" in job.error
        assert handler.messages == []
    finally:
        runtime.close()


def test_wrong_smtp_password_fails_the_job_and_sends_nothing(
    tmp_path: Path, database_url: str, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    runtime = _runtime(tmp_path, database_url, port, smtp_password="wrong")
    try:
        clinic, doctor = _doctor(runtime)
        patient = create_patient(runtime, clinic, first_name="Ines")
        with TestClient(create_app(runtime), base_url="https://testserver") as client:
            _invite(_signed_in(client, doctor), patient, "ines@example.org")
            run_jobs(runtime, JOB)
        (job,) = _jobs(runtime)
        assert job.status is not JobStatus.SUCCEEDED
        assert job.error and "wrong" not in job.error  # the password is not echoed
        assert handler.messages == []
    finally:
        runtime.close()


def test_without_smtp_the_panel_says_nothing_was_sent(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    patient = create_patient(runtime, clinic, first_name="Ines")
    panel = _invite(_signed_in(client, doctor), patient, "ines@example.org")
    assert "E-mail is not set up" in panel
    assert "<svg" in panel
    assert _jobs(runtime) == []
