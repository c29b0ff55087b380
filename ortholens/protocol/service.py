"""Photo protocol rules: built-in series for everyone, clinic series managed by clinic admins."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from ortholens.audit import service as audit
from ortholens.auth.principals import StaffPrincipal
from ortholens.kit.errors import Conflict, InvalidInput, NotFound
from ortholens.models import PhotoProtocol, ProtocolSlot
from ortholens.patient.service import find_patient
from ortholens.protocol import repository
from ortholens.protocol.builtin import BUILTIN_PROTOCOLS, VIEW_LABELS, Protocol, Slot
from ortholens.protocol.completeness import Completeness, check_completeness

MAX_SLOTS = 20
NOT_FOUND = "No photo protocol with this id."


def _as_protocol(row: PhotoProtocol) -> Protocol:
    slots = tuple(Slot(s.view_code, s.label, s.required) for s in row.slots)
    return Protocol(key=str(row.id), name=row.name, slots=slots)


def _clinic_of(principal: StaffPrincipal, clinic_id: uuid.UUID | None) -> uuid.UUID:
    clinic = principal.clinic_scope or clinic_id
    if clinic is None:
        raise InvalidInput("Say which clinic (clinicId) the protocol is for.")
    return clinic


def list_protocols(
    session: Session, principal: StaffPrincipal, clinic_id: uuid.UUID | None = None
) -> list[Protocol]:
    """The built-in series followed by the clinic's own."""
    clinic = principal.clinic_scope or clinic_id
    own = [_as_protocol(p) for p in repository.list_for_clinic(session, clinic)] if clinic else []
    return [*BUILTIN_PROTOCOLS, *own]


def get_protocol(session: Session, principal: StaffPrincipal, key: str) -> Protocol:
    """A protocol by key: `builtin:<name>` or the id of one of the clinic's protocols."""
    for protocol in BUILTIN_PROTOCOLS:
        if protocol.key == key:
            return protocol
    try:
        protocol_id = uuid.UUID(key)
    except ValueError:
        raise NotFound(NOT_FOUND) from None
    row = repository.get(session, protocol_id)
    scope = principal.clinic_scope
    if row is None or (scope is not None and row.clinic_id != scope):
        raise NotFound(NOT_FOUND)
    return _as_protocol(row)


def create_protocol(
    session: Session,
    principal: StaffPrincipal,
    *,
    name: str,
    slots: list[Slot],
    clinic_id: uuid.UUID | None = None,
) -> Protocol:
    """A clinic's own photo series: ordered ADA-1100 views, each required or optional."""
    clinic = _clinic_of(principal, clinic_id)
    name = name.strip()
    codes = [s.view_code for s in slots]
    if not name:
        raise InvalidInput("Give the protocol a name.")
    if not slots or len(slots) > MAX_SLOTS:
        raise InvalidInput(f"A protocol has between 1 and {MAX_SLOTS} views.")
    unknown = sorted(set(codes) - set(VIEW_LABELS))
    if unknown:
        raise InvalidInput(f"Unknown view codes: {', '.join(unknown)}.")
    if len(set(codes)) != len(codes):
        raise InvalidInput("Each view appears once in a protocol.")
    if repository.name_taken(session, clinic, name):
        raise Conflict("Your clinic already has a protocol with this name.")
    row = PhotoProtocol(
        clinic_id=clinic,
        name=name,
        slots=[
            ProtocolSlot(
                position=i,
                view_code=s.view_code,
                label=s.label.strip() or VIEW_LABELS[s.view_code],
                required=s.required,
            )
            for i, s in enumerate(slots)
        ],
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal.actor,
        "protocol.create",
        clinic_id=clinic,
        target_type="protocol",
        target_id=row.id,
    )
    return _as_protocol(row)


def delete_protocol(session: Session, principal: StaffPrincipal, protocol_id: uuid.UUID) -> None:
    """Remove one of the clinic's protocols (the built-in ones stay)."""
    row = repository.get(session, protocol_id)
    scope = principal.clinic_scope
    if row is None or (scope is not None and row.clinic_id != scope):
        raise NotFound(NOT_FOUND)
    repository.delete(session, row)
    audit.record(
        session,
        principal.actor,
        "protocol.delete",
        clinic_id=row.clinic_id,
        target_type="protocol",
        target_id=protocol_id,
    )


def patient_completeness(
    session: Session,
    principal: StaffPrincipal,
    patient_id: uuid.UUID,
    key: str,
    scan_session_id: uuid.UUID | None = None,
) -> Completeness:
    """How far a patient's photos (or one scan session's) cover a protocol."""
    patient = find_patient(session, principal, patient_id, action="patient.photos.completeness")
    protocol = get_protocol(session, principal, key)
    codes = repository.photo_view_codes(session, patient.id, scan_session_id)
    audit.record(
        session,
        principal.actor,
        "patient.photos.completeness",
        clinic_id=patient.clinic_id,
        target_type="patient",
        target_id=patient.id,
    )
    return check_completeness(protocol, codes)
