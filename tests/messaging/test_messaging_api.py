"""Seed 004 section 4: threads, messages, sender types, unread counts and patient isolation."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ortholens.models import AuditEvent, Clinic, Message, Patient, Role, User
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_patient, create_user, patient_token, sign_in


@pytest.fixture
def patient(runtime: Runtime, clinic: Clinic) -> Patient:
    return create_patient(runtime, clinic)


def open_thread(
    client: TestClient, headers: dict[str, str], patient: Patient, first: str | None = "Hello"
) -> dict[str, object]:
    response = client.post(
        "/api/messaging/threads",
        headers=headers,
        json={"patientId": str(patient.id), "subject": "Your aligners", "content": first},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_conversation_with_unread_counts_on_both_sides(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User, patient: Patient
) -> None:
    staff = sign_in(client, doctor)
    thread = open_thread(client, staff, patient)
    assert thread["lastMessage"]["senderType"] == "DOCTOR"  # type: ignore[index]
    front = sign_in(client, create_user(runtime, clinic, Role.FRONT_DESK))
    note = client.post(
        "/api/messaging/messages",
        headers=front,
        json={"threadId": thread["id"], "content": "Call us"},
    )
    assert note.status_code == 201 and note.json()["senderType"] == "STAFF"

    mine = patient_token(runtime, patient)
    listed = client.get("/api/patient/messages", headers=mine).json()
    assert [(t["id"], t["unreadCount"]) for t in listed] == [(thread["id"], 2)]
    opened = client.get(f"/api/patient/messages/{thread['id']}", headers=mine).json()
    assert [m["content"] for m in opened["messages"]] == ["Hello", "Call us"]
    for message in opened["messages"]:
        read = client.patch(f"/api/patient/messages/{message['id']}/read", headers=mine)
        assert read.status_code == 200 and read.json()["readAt"] is not None
    assert client.get("/api/patient/messages", headers=mine).json()[0]["unreadCount"] == 0

    reply = client.post(
        "/api/patient/messages", headers=mine, json={"threadId": thread["id"], "content": "Thanks!"}
    )
    assert reply.status_code == 201 and reply.json()["senderType"] == "PATIENT"
    # Marking your own message read does nothing: only the other side reads it.
    assert (
        client.patch(f"/api/patient/messages/{reply.json()['id']}/read", headers=mine).json()[
            "readAt"
        ]
        is None
    )
    staff_list = client.get("/api/messaging/threads", headers=staff).json()
    assert (
        staff_list[0]["unreadCount"] == 1 and staff_list[0]["lastMessage"]["content"] == "Thanks!"
    )
    client.patch(f"/api/messaging/messages/{reply.json()['id']}/read", headers=staff)
    assert client.get("/api/messaging/threads", headers=staff).json()[0]["unreadCount"] == 0


def test_the_sender_type_cannot_be_chosen_by_the_client(
    client: TestClient, runtime: Runtime, doctor: User, patient: Patient
) -> None:
    thread = open_thread(client, sign_in(client, doctor), patient, first=None)
    sent = client.post(
        "/api/patient/messages",
        headers=patient_token(runtime, patient),
        json={"threadId": thread["id"], "content": "hi", "senderType": "DOCTOR"},
    )
    assert sent.json()["senderType"] == "PATIENT"


def test_patients_see_only_their_own_threads(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User, patient: Patient
) -> None:
    thread = open_thread(client, sign_in(client, doctor), patient)
    other = patient_token(runtime, create_patient(runtime, clinic))
    assert client.get("/api/patient/messages", headers=other).json() == []
    for response in (
        client.get(f"/api/patient/messages/{thread['id']}", headers=other),
        client.post(
            "/api/patient/messages", headers=other, json={"threadId": thread["id"], "content": "x"}
        ),
        client.patch(f"/api/patient/messages/{thread['lastMessage']['id']}/read", headers=other),  # type: ignore[index]
    ):
        assert response.status_code == 404
    assert client.get(f"/api/patient/messages/{uuid.uuid4()}", headers=other).status_code == 404
    with runtime.session_factory() as db:
        assert db.scalars(select(Message).where(Message.content == "x")).all() == []
        denied = db.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
        assert len(denied) == 3


def test_another_clinics_patient_and_thread_are_not_found(
    client: TestClient, runtime: Runtime, doctor: User, patient: Patient
) -> None:
    elsewhere = create_clinic(runtime)
    foreign_patient = create_patient(runtime, elsewhere)
    foreign_doctor = create_user(runtime, elsewhere, Role.DOCTOR)
    foreign_thread = open_thread(client, sign_in(client, foreign_doctor), foreign_patient)
    headers = sign_in(client, doctor)
    assert (
        client.post(
            "/api/messaging/threads",
            headers=headers,
            json={"patientId": str(foreign_patient.id), "subject": "x"},
        ).status_code
        == 404
    )
    assert (
        client.get(f"/api/messaging/threads/{foreign_thread['id']}", headers=headers).status_code
        == 404
    )
    assert (
        client.post(
            "/api/messaging/messages",
            headers=headers,
            json={"threadId": foreign_thread["id"], "content": "x"},
        ).status_code
        == 404
    )
    assert client.get("/api/messaging/threads", headers=headers).json() == []


def test_who_may_read_and_write_messages(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User, patient: Patient
) -> None:
    thread = open_thread(client, sign_in(client, doctor), patient)
    reader = sign_in(client, create_user(runtime, clinic, Role.READ_ONLY))
    billing = sign_in(client, create_user(runtime, clinic, Role.BILLING))
    assert client.get(f"/api/messaging/threads/{thread['id']}", headers=reader).status_code == 200
    assert (
        client.post(
            "/api/messaging/messages",
            headers=reader,
            json={"threadId": thread["id"], "content": "x"},
        ).status_code
        == 403
    )
    assert client.get("/api/messaging/threads", headers=billing).status_code == 403


@pytest.mark.parametrize("content", ["", " " * 3, "x" * 5001])
def test_empty_or_oversized_messages_are_refused(
    client: TestClient, runtime: Runtime, doctor: User, patient: Patient, content: str
) -> None:
    thread = open_thread(client, sign_in(client, doctor), patient, first=None)
    sent = client.post(
        "/api/patient/messages",
        headers=patient_token(runtime, patient),
        json={"threadId": thread["id"], "content": content},
    )
    assert sent.status_code == 422
