"""The messaging pages load what they show in a fixed number of statements: the number does not
grow with the threads in the inbox or with the staff members who wrote in a thread (no N+1)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from ortholens.kit.db import transaction
from ortholens.models import Clinic, Message, MessageThread, Role, SenderType, User
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_patient, create_user, sign_in


@contextmanager
def counted_statements(runtime: Runtime) -> Iterator[list[str]]:
    """Every statement sent to the database while the block runs, in order."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(runtime.engine, "before_cursor_execute", record)


def statements_to_render(
    client: TestClient, runtime: Runtime, path: str, headers: dict[str, str]
) -> tuple[int, str]:
    """How many statements one page view sends, and the page."""
    with counted_statements(runtime) as statements:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return len(statements), response.text


def add_threads(runtime: Runtime, clinic: Clinic, count: int) -> list[str]:
    """`count` threads, each with a new patient who wrote once (unread); their last names."""
    names = []
    for _ in range(count):
        patient = create_patient(runtime, clinic, last_name=f"Q{uuid.uuid4().hex[:8]}")
        with transaction(runtime.session_factory) as session:
            thread = MessageThread(clinic_id=clinic.id, patient_id=patient.id, subject="Aligners")
            session.add(thread)
            session.flush()
            session.add(
                Message(
                    clinic_id=clinic.id,
                    thread_id=thread.id,
                    sender_type=SenderType.PATIENT,
                    content="My aligner cracked.",
                )
            )
        names.append(patient.last_name)
    return names


def add_staff_message(runtime: Runtime, thread: MessageThread, author: User) -> None:
    with transaction(runtime.session_factory) as session:
        session.add(
            Message(
                clinic_id=thread.clinic_id,
                thread_id=thread.id,
                sender_type=SenderType.STAFF,
                sender_user_id=author.id,
                content=f"Noted, from {author.full_name}.",
            )
        )


@pytest.fixture
def clinic(runtime: Runtime) -> Clinic:
    return create_clinic(runtime, "Bright Smiles")


@pytest.fixture
def doctor(client: TestClient, runtime: Runtime, clinic: Clinic) -> dict[str, str]:
    headers = sign_in(client, create_user(runtime, clinic, Role.DOCTOR))
    client.cookies.clear()
    return headers


def test_the_staff_inbox_takes_as_many_statements_for_seven_threads_as_for_two(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: dict[str, str]
) -> None:
    names = add_threads(runtime, clinic, 2)
    statements_to_render(client, runtime, "/messages", doctor)  # the first view may differ
    few, _ = statements_to_render(client, runtime, "/messages", doctor)
    names += add_threads(runtime, clinic, 5)
    many, page = statements_to_render(client, runtime, "/messages", doctor)
    assert all(name in page for name in names)
    assert page.count('aria-label="1 unread"') == 7
    assert many == few


def test_a_thread_takes_as_many_statements_for_four_staff_authors_as_for_one(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: dict[str, str]
) -> None:
    patient = create_patient(runtime, clinic)
    with transaction(runtime.session_factory) as session:
        thread = MessageThread(clinic_id=clinic.id, patient_id=patient.id, subject="Retainer")
        session.add(thread)
    authors = [create_user(runtime, clinic, Role.CLINICAL_STAFF) for _ in range(4)]
    for author in authors:
        with transaction(runtime.session_factory) as session:
            row = session.get(User, author.id)
            assert row is not None
            row.full_name = author.full_name = f"Nurse {uuid.uuid4().hex[:6]}"
    path = f"/messages/{thread.id}"
    add_staff_message(runtime, thread, authors[0])
    statements_to_render(client, runtime, path, doctor)
    one, _ = statements_to_render(client, runtime, path, doctor)
    for author in authors[1:]:
        add_staff_message(runtime, thread, author)
    four, page = statements_to_render(client, runtime, path, doctor)
    assert all(author.full_name in page for author in authors)
    assert four == one
