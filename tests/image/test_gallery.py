"""The gallery API: filters, cursor paging, signed links by role, audit of views, soft delete."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ortholens.models import (
    AuditEvent,
    FileType,
    Role,
)
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_image, create_patient
from tests.fixtures.accounts import staff_headers


def test_filters_and_cursor_paging(client: TestClient, runtime: Runtime) -> None:
    clinic = create_clinic(runtime)
    patient = create_patient(runtime, clinic)
    made = [
        create_image(
            runtime, patient, view="IV07" if i % 2 else "IV25", tags=["debond"] if i == 3 else []
        )
        for i in range(5)
    ]
    create_image(runtime, patient, file_type=FileType.XRAY, view=None)
    headers = staff_headers(client, runtime, clinic, Role.DOCTOR)
    url = f"/api/patients/{patient.id}/images"
    page = client.get(url, headers=headers, params={"fileType": "PHOTO", "limit": 2}).json()
    assert len(page["items"]) == 2 and page["nextCursor"]
    seen = [i["id"] for i in page["items"]]
    while page["nextCursor"]:
        page = client.get(
            url,
            headers=headers,
            params={"fileType": "PHOTO", "limit": 2, "cursor": page["nextCursor"]},
        ).json()
        seen += [i["id"] for i in page["items"]]
    assert sorted(seen) == sorted(str(i.id) for i in made)
    assert len(set(seen)) == 5
    occlusal = client.get(url, headers=headers, params={"view": "IV25"}).json()["items"]
    assert {i["viewCode"] for i in occlusal} == {"IV25"}
    assert [
        i["id"] for i in client.get(url, headers=headers, params={"tag": "debond"}).json()["items"]
    ] == [str(made[3].id)]
    assert client.get(url, headers=headers, params={"cursor": "garbage"}).status_code == 422


def test_links_follow_the_role_scope(client: TestClient, runtime: Runtime) -> None:
    clinic = create_clinic(runtime)
    patient = create_patient(runtime, clinic)
    create_image(runtime, patient)
    create_image(runtime, patient, file_type=FileType.XRAY, view=None)
    url = f"/api/patients/{patient.id}/images"

    def links(role: Role) -> dict[str, bool]:
        items = client.get(url, headers=staff_headers(client, runtime, clinic, role)).json()[
            "items"
        ]
        return {i["fileType"]: bool(i["urls"]) for i in items}

    assert links(Role.DOCTOR) == {"PHOTO": True, "XRAY": True}
    assert links(Role.FRONT_DESK) == {"PHOTO": True, "XRAY": False}
    assert links(Role.BILLING) == {"PHOTO": False, "XRAY": False}


def test_signed_links_serve_the_bytes_and_every_view_is_audited(
    client: TestClient, runtime: Runtime
) -> None:
    clinic = create_clinic(runtime)
    patient = create_patient(runtime, clinic)
    image = create_image(runtime, patient)
    body = client.get(
        f"/api/images/{image.id}", headers=staff_headers(client, runtime, clinic, Role.DOCTOR)
    ).json()
    assert set(body["urls"]) == {"thumbnail", "original"}
    original = body["urls"]["original"].removeprefix("http://testserver")
    assert client.get(original).content == b"original-bytes"
    with runtime.session_factory() as session:
        views = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "image.view", AuditEvent.target_id == image.id)
        )
    assert views == 1


def test_another_clinics_image_is_the_same_404(client: TestClient, runtime: Runtime) -> None:
    clinic = create_clinic(runtime)
    headers = staff_headers(client, runtime, clinic, Role.DOCTOR)
    theirs = create_image(runtime, create_patient(runtime, create_clinic(runtime)))
    a = client.get(f"/api/images/{theirs.id}", headers=headers)
    b = client.get(f"/api/images/{uuid.uuid4()}", headers=headers)
    assert a.status_code == b.status_code == 404
    assert a.json()["detail"] == b.json()["detail"]
    assert (
        client.get(f"/api/patients/{theirs.patient_id}/images", headers=headers).status_code == 404
    )


def test_soft_delete_and_restore(client: TestClient, runtime: Runtime) -> None:
    clinic = create_clinic(runtime)
    patient = create_patient(runtime, clinic)
    image = create_image(runtime, patient)
    admin = staff_headers(client, runtime, clinic, Role.CLINIC_ADMIN)
    assert client.delete(f"/api/images/{image.id}", headers=admin).json()["deletedAt"] is not None
    listed = client.get(f"/api/patients/{patient.id}/images", headers=admin).json()["items"]
    assert listed == []
    with_deleted = client.get(
        f"/api/patients/{patient.id}/images", headers=admin, params={"deleted": True}
    ).json()["items"]
    assert [i["id"] for i in with_deleted] == [str(image.id)]
    assert with_deleted[0]["urls"] == {}
    assert client.post(f"/api/images/{image.id}/restore", headers=admin).json()["deletedAt"] is None
    assert runtime.store.head(image.original_key) is not None  # soft delete never touched the bytes


def test_restore_after_the_recovery_window_is_refused(client: TestClient, runtime: Runtime) -> None:
    clinic = create_clinic(runtime)
    image = create_image(runtime, create_patient(runtime, clinic), deleted_days_ago=31)
    response = client.post(
        f"/api/images/{image.id}/restore",
        headers=staff_headers(client, runtime, clinic, Role.CLINIC_ADMIN),
    )
    assert response.status_code == 409


def test_a_doctors_delete_is_a_request(client: TestClient, runtime: Runtime) -> None:
    clinic = create_clinic(runtime)
    image = create_image(runtime, create_patient(runtime, clinic))
    body = client.delete(
        f"/api/images/{image.id}", headers=staff_headers(client, runtime, clinic, Role.DOCTOR)
    ).json()
    assert body["deletedAt"] is None
    assert body["deletionRequestedAt"] is not None
    approved = client.delete(
        f"/api/images/{image.id}", headers=staff_headers(client, runtime, clinic, Role.CLINIC_ADMIN)
    ).json()
    assert approved["deletedAt"] is not None
