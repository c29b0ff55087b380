"""Steps the patient tests share: a clinic with a signed-in doctor, inviting a patient,
registering with the invitation, and reading the audit trail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.kit.db import transaction
from ortholens.models import AuditEvent, Clinic, Patient, User
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_patient, create_user, sign_in

PATIENT_PASSWORD = "brushing twice a day"


@dataclass(frozen=True)
class Practice:
    clinic: Clinic
    doctor: User
    headers: dict[str, str]  # the doctor's bearer header


def practice(client: TestClient, runtime: Runtime) -> Practice:
    """A clinic with a doctor signed in through the API."""
    clinic = create_clinic(runtime)
    doctor = create_user(runtime, clinic)
    return Practice(clinic, doctor, sign_in(client, doctor))


def invite(
    client: TestClient, headers: dict[str, str], patient_id: uuid.UUID, email: str | None = None
) -> dict[str, str]:
    response = client.post(
        f"/api/patients/{patient_id}/invite", json={"email": email}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


def register(client: TestClient, token: str, email: str, password: str = PATIENT_PASSWORD) -> Any:
    return client.post(
        "/api/patient-auth/register", json={"token": token, "email": email, "password": password}
    )


def onboard(
    client: TestClient, runtime: Runtime, at: Practice, *, email: str | None = None
) -> tuple[Patient, dict[str, str]]:
    """A new patient of `at`'s clinic who registered through an invitation; their bearer header.
    The client's cookie jar is emptied so that later calls say explicitly who they are."""
    patient = create_patient(runtime, at.clinic)
    token = invite(client, at.headers, patient.id)["token"]
    email = email or f"patient-{uuid.uuid4().hex[:8]}@example.com"
    response = register(client, token, email)
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return patient, {"Authorization": f"Bearer {response.json()['accessToken']}"}


def audit_events(runtime: Runtime, action: str) -> list[AuditEvent]:
    with transaction(runtime.session_factory) as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.at)
            )
        )


def problem(response: Any) -> dict[str, object]:
    """A problem document without the parts that differ per request (path and request id)."""
    body: dict[str, object] = response.json()
    return {k: v for k, v in body.items() if k not in ("instance", "request_id")}
