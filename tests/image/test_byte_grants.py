"""Who gets links to which bytes: the role-by-item matrix of DOMAIN.md, written out by hand.

Seed 003 gives `imaging:3d_view` to admins, doctors and clinical staff only, so read-only staff see
photos and X-rays but no 3D scan or CBCT bytes; the front desk sees no radiograph bytes whatever
route it came in by (a photo with category "radiograph" or view XRAY is one); billing sees none.
Each role is checked on the gallery list and the item route, and the links that are handed out
must actually serve the bytes, so that a refusal cannot pass by leaving a link half-made.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from ortholens.kit.db import transaction
from ortholens.models import FileType, Image, Patient, Role
from ortholens.runtime import Runtime
from tests.factories import create_clinic, create_image, create_patient
from tests.fixtures.accounts import staff_headers

KINDS = ("photo", "photo_radiograph", "photo_xray_view", "xray", "cbct", "scan_3d", "document")

ALL = frozenset(KINDS)
NO_3D = ALL - {"cbct", "scan_3d"}
NO_RADIOGRAPHS = frozenset({"photo", "document"})

# role -> the kinds whose bytes it may load (DOMAIN.md "Roles and permissions").
EXPECTED: dict[Role, frozenset[str]] = {
    Role.SUPER_ADMIN: ALL,
    Role.CLINIC_ADMIN: ALL,
    Role.DOCTOR: ALL,
    Role.CLINICAL_STAFF: ALL,
    Role.FRONT_DESK: NO_RADIOGRAPHS,
    Role.BILLING: frozenset(),
    Role.READ_ONLY: NO_3D,
}


def _make(runtime: Runtime, patient: Patient, kind: str) -> Image:
    file_type = {
        "xray": FileType.XRAY,
        "cbct": FileType.CBCT,
        "scan_3d": FileType.SCAN_3D,
        "document": FileType.DOCUMENT,
    }.get(kind, FileType.PHOTO)
    image = create_image(runtime, patient, file_type=file_type, view=None)
    values: dict[str, object] = {}
    if kind == "photo":
        values = {"view_code": "IV07", "category": "intraoral"}
    if kind == "photo_radiograph":  # an X-ray uploaded through the photo routes, as the user said
        values = {"category": "radiograph"}
    if kind == "photo_xray_view":  # ... or as the view classifier found it
        values = {"view_code": "XRAY"}
    if values:
        with transaction(runtime.session_factory) as session:
            session.execute(update(Image).where(Image.id == image.id).values(**values))
    return image


def test_links_by_role_and_item_kind(client: TestClient, runtime: Runtime) -> None:
    clinic = create_clinic(runtime)
    patient = create_patient(runtime, clinic)
    images = {kind: _make(runtime, patient, kind) for kind in KINDS}
    kind_of = {str(image.id): kind for kind, image in images.items()}
    mismatches: list[str] = []
    for role, expected in EXPECTED.items():
        headers = staff_headers(client, runtime, clinic, role)
        listed = client.get(f"/api/patients/{patient.id}/images", headers=headers)
        assert listed.status_code == 200, (role, listed.text)
        with_links = {kind_of[i["id"]] for i in listed.json()["items"] if i["urls"]}
        if with_links != expected:
            mismatches.append(f"gallery as {role.value}: {sorted(with_links)}")
        for kind, image in images.items():
            item = client.get(f"/api/images/{image.id}", headers=headers)
            assert item.status_code == 200, (role, kind, item.text)
            urls = item.json()["urls"]
            if bool(urls) != (kind in expected):
                mismatches.append(f"item {kind} as {role.value}: {sorted(urls)}")
            if urls:
                original = urls["original"].removeprefix("http://testserver")
                assert client.get(original).content == b"original-bytes"
    assert mismatches == []


def test_read_only_staff_get_no_3d_links_anywhere(client: TestClient, runtime: Runtime) -> None:
    """The probe of issue 12: the item route handed out a scan's original; the scan list refused."""
    clinic = create_clinic(runtime)
    patient = create_patient(runtime, clinic)
    scan = _make(runtime, patient, "scan_3d")
    headers = staff_headers(client, runtime, clinic, Role.READ_ONLY)
    assert client.get(f"/api/images/{scan.id}", headers=headers).json()["urls"] == {}
    assert client.get(f"/api/patients/{patient.id}/scans", headers=headers).status_code == 403
    listed = client.get(
        f"/api/patients/{patient.id}/images", headers=headers, params={"fileType": "SCAN_3D"}
    ).json()["items"]
    assert [(i["id"], i["urls"]) for i in listed] == [(str(scan.id), {})]


def test_scan_metadata_follows_the_3d_view_grant(client: TestClient, runtime: Runtime) -> None:
    """Mesh statistics, arch detection and the scanner's own fields (which may name the patient)
    are a view of the scan: the 3D viewers get them, front desk, billing and read-only a 403 (they
    keep the gallery's item fields: kind, category, status, dates)."""
    clinic = create_clinic(runtime)
    scan = _make(runtime, create_patient(runtime, clinic), "scan_3d")
    answers = {
        role: client.get(
            f"/api/imaging/3d/{scan.id}/metadata",
            headers=staff_headers(client, runtime, clinic, role),
        ).status_code
        for role in Role
    }
    assert answers == {role: 200 if role in _VIEWERS_3D else 403 for role in Role}


_VIEWERS_3D = {Role.SUPER_ADMIN, Role.CLINIC_ADMIN, Role.DOCTOR, Role.CLINICAL_STAFF}
