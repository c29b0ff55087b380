"""Built-in and clinic photo protocols, and the completeness check."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from ortholens.kit.db import transaction, utcnow
from ortholens.models import FileType, Image, ImageSource, ImageStatus, Patient, Role
from ortholens.protocol.builtin import ABO_RECORDS, REMOTE_MONITORING
from ortholens.protocol.completeness import check_completeness
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_patient, create_user, sign_in


def test_four_of_five_names_the_missing_view() -> None:
    result = check_completeness(REMOTE_MONITORING, ["IV07", "IV01", "IV18", "IV25", None, "EV01"])
    assert result.summary == "4 of 5, missing: mandibular occlusal"
    assert not result.complete


def test_all_views_make_a_complete_set() -> None:
    codes = [slot.view_code for slot in ABO_RECORDS.slots]
    result = check_completeness(ABO_RECORDS, codes)
    assert (result.complete, result.summary) == (True, "8 of 8, complete")


def test_builtin_series_are_the_abo_records_and_the_scan_wizard() -> None:
    assert [s.view_code for s in ABO_RECORDS.slots] == [
        "EV01",
        "EV15",
        "EV19",
        "IV07",
        "IV01",
        "IV18",
        "IV25",
        "IV27",
    ]
    assert [s.view_code for s in REMOTE_MONITORING.slots] == [
        "IV07",
        "IV01",
        "IV18",
        "IV25",
        "IV27",
    ]


def headers_for(
    client: TestClient, runtime: Runtime, role: Role, clinic: object | None = None
) -> tuple[object, dict[str, str]]:
    clinic = clinic or create_clinic(runtime)
    headers = sign_in(client, create_user(runtime, clinic, role))  # type: ignore[arg-type]
    client.cookies.clear()
    return clinic, headers


def test_clinic_admin_defines_a_protocol_that_staff_can_list(
    client: TestClient, runtime: Runtime
) -> None:
    clinic, admin = headers_for(client, runtime, Role.CLINIC_ADMIN)
    created = client.post(
        "/api/protocols",
        headers=admin,
        json={
            "name": "Debond records",
            "slots": [
                {"viewCode": "IV07"},
                {"viewCode": "EV19", "label": "Big smile", "required": False},
            ],
        },
    )
    assert created.status_code == 201
    _, staff = headers_for(client, runtime, Role.CLINICAL_STAFF, clinic)
    listed = client.get("/api/protocols", headers=staff).json()
    names = [p["name"] for p in listed]
    assert names[:2] == [ABO_RECORDS.name, REMOTE_MONITORING.name]
    mine = next(p for p in listed if p["name"] == "Debond records")
    assert [(s["viewCode"], s["label"], s["required"]) for s in mine["slots"]] == [
        ("IV07", "intraoral frontal", True),
        ("EV19", "Big smile", False),
    ]
    _, stranger = headers_for(client, runtime, Role.CLINIC_ADMIN)
    assert "Debond records" not in [
        p["name"] for p in client.get("/api/protocols", headers=stranger).json()
    ]


def test_bad_protocols_are_refused(client: TestClient, runtime: Runtime) -> None:
    _, admin = headers_for(client, runtime, Role.CLINIC_ADMIN)
    unknown = client.post(
        "/api/protocols", headers=admin, json={"name": "X", "slots": [{"viewCode": "ZZ99"}]}
    )
    assert unknown.status_code == 422
    assert "ZZ99" in unknown.json()["detail"]
    twice = client.post(
        "/api/protocols",
        headers=admin,
        json={"name": "X", "slots": [{"viewCode": "IV07"}, {"viewCode": "IV07"}]},
    )
    assert twice.status_code == 422
    client.post(
        "/api/protocols", headers=admin, json={"name": "Same", "slots": [{"viewCode": "IV07"}]}
    )
    again = client.post(
        "/api/protocols", headers=admin, json={"name": "Same", "slots": [{"viewCode": "IV01"}]}
    )
    assert again.status_code == 409


def add_photo(
    runtime: Runtime, patient: Patient, view: str | None, *, deleted: bool = False
) -> None:
    with transaction(runtime.session_factory) as session:
        session.add(
            Image(
                clinic_id=patient.clinic_id,
                patient_id=patient.id,
                file_type=FileType.PHOTO,
                source=ImageSource.UPLOAD,
                status=ImageStatus.READY,
                view_code=view,
                original_key=f"{patient.clinic_id}/{patient.id}/photo/{uuid.uuid4()}/original.jpg",
                deleted_at=utcnow() if deleted else None,
            )
        )


def test_patient_completeness_counts_live_photos_only(client: TestClient, runtime: Runtime) -> None:
    clinic, doctor = headers_for(client, runtime, Role.DOCTOR)
    patient = create_patient(runtime, clinic)  # type: ignore[arg-type]
    for view in ("IV07", "IV01", "IV18", "IV25"):
        add_photo(runtime, patient, view)
    add_photo(runtime, patient, "IV27", deleted=True)
    url = f"/api/patients/{patient.id}/protocols/builtin:remote-monitoring-5/completeness"
    body = client.get(url, headers=doctor).json()
    assert body["summary"] == "4 of 5, missing: mandibular occlusal"
    assert body["missing"] == ["mandibular occlusal"]


def test_completeness_of_another_clinics_patient_is_404(
    client: TestClient, runtime: Runtime
) -> None:
    _, doctor = headers_for(client, runtime, Role.DOCTOR)
    stranger = create_patient(runtime, create_clinic(runtime))
    url = f"/api/patients/{stranger.id}/protocols/builtin:abo-8/completeness"
    assert client.get(url, headers=doctor).status_code == 404
    unknown = f"/api/patients/{uuid.uuid4()}/protocols/builtin:nope/completeness"
    assert client.get(unknown, headers=doctor).status_code == 404
