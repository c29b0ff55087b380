"""Keyset pages of threads (cursor in the `X-Next-Cursor` header; the body stays the seed's JSON
array) and of a thread's messages (`nextCursor`), on the staff and the patient side."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from httpx import Response

from ortholens.models import Clinic, Patient, User
from ortholens.runtime import Runtime
from tests.factories import create_patient, patient_token, sign_in

THREADS = 5
MESSAGES = 7


def walk(
    get: Callable[[str | None], Response], next_of: Callable[[Response], str | None]
) -> list[list[str]]:
    """Follow the cursors from the first page to the last; the ids on each page."""
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        answer = get(cursor)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items = body if isinstance(body, list) else body["messages"]
        pages.append([item["id"] for item in items])
        cursor = next_of(answer)
        if cursor is None:
            return pages
        assert len(pages) <= THREADS + MESSAGES, "the cursors do not end"


def open_threads(client: TestClient, staff: dict[str, str], patient: Patient) -> list[str]:
    ids = []
    for n in range(THREADS):
        answer = client.post(
            "/api/messaging/threads",
            headers=staff,
            json={"patientId": str(patient.id), "subject": f"Topic {n}", "content": "Hi"},
        )
        assert answer.status_code == 201
        ids.append(answer.json()["id"])
    return ids


def test_thread_lists_page_latest_first_with_the_cursor_in_a_header(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    patient = create_patient(runtime, clinic)
    staff = sign_in(client, doctor)
    opened = open_threads(client, staff, patient)
    latest_first = opened[::-1]

    def staff_page(cursor: str | None) -> Response:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        return client.get("/api/messaging/threads", headers=staff, params=params)

    def header(answer: Response) -> str | None:
        return answer.headers.get("X-Next-Cursor")

    pages = walk(staff_page, header)
    assert pages == [latest_first[0:2], latest_first[2:4], latest_first[4:5]]

    mine = patient_token(runtime, patient)

    def patient_page(cursor: str | None) -> Response:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        return client.get("/api/patient/messages", headers=mine, params=params)

    assert walk(patient_page, header) == [latest_first[0:3], latest_first[3:5]]
    # A page that holds everything has no next cursor.
    assert header(client.get("/api/messaging/threads", headers=staff)) is None


def test_a_threads_messages_page_oldest_first(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    patient = create_patient(runtime, clinic)
    staff = sign_in(client, doctor)
    thread = open_threads(client, staff, patient)[0]
    for n in range(1, MESSAGES):
        sent = client.post(
            "/api/messaging/messages", headers=staff, json={"threadId": thread, "content": f"m{n}"}
        )
        assert sent.status_code == 201

    def next_cursor(answer: Response) -> str | None:
        value = answer.json()["nextCursor"]
        return str(value) if value is not None else None

    def staff_page(cursor: str | None) -> Response:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        return client.get(f"/api/messaging/threads/{thread}", headers=staff, params=params)

    staff_pages = walk(staff_page, next_cursor)
    assert [len(page) for page in staff_pages] == [3, 3, 1]
    whole = client.get(f"/api/messaging/threads/{thread}", headers=staff).json()
    assert [m["content"] for m in whole["messages"]] == ["Hi", *(f"m{n}" for n in range(1, 7))]
    assert [i for page in staff_pages for i in page] == [m["id"] for m in whole["messages"]]
    assert whole["nextCursor"] is None

    mine = patient_token(runtime, patient)

    def patient_page(cursor: str | None) -> Response:
        params = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        return client.get(f"/api/patient/messages/{thread}", headers=mine, params=params)

    patient_pages = walk(patient_page, next_cursor)
    assert [i for page in patient_pages for i in page] == [m["id"] for m in whole["messages"]]
    assert [len(page) for page in patient_pages] == [4, 3]


def test_a_bad_cursor_or_limit_is_a_clear_422(
    client: TestClient, runtime: Runtime, clinic: Clinic, doctor: User
) -> None:
    staff = sign_in(client, doctor)
    for params in ({"cursor": "not a cursor!"}, {"cursor": "bm90IGEgY3Vyc29y"}, {"limit": "0"}):
        answer = client.get("/api/messaging/threads", headers=staff, params=params)
        assert answer.status_code == 422, params
        assert answer.headers["content-type"].startswith("application/problem+json")
