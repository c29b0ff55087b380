"""Which patient a scanner's export names (seed 001 patient matching), when nobody said.

Exports write names in either order ("Last, First" and "First, Last" both occur, and "First Last"
without a comma), so every reading of the name is tried; the set matches only when all readings
together find exactly one patient of the clinic. A birth date in the export must agree with the
patient's (a patient whose birth date is unknown is not contradicted), and a chart number that is
an OrthoLens patient id of the clinic names that patient, unless the name says otherwise. Anything
ambiguous or contradictory leaves the set for a person in the pending queue. A file name is never
evidence.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from ortholens.intraoral import repository
from ortholens.models import Patient
from ortholens.processing.meshes.types import ScannerMetadata

_MAX_NAME_WORDS = 6


@dataclass(frozen=True)
class Evidence:
    """What the scanner's files of one set say about the patient (None: said nothing or
    disagreed with itself)."""

    name: str | None
    ref: str | None
    birth_date: date | None

    @classmethod
    def of(cls, scanners: Iterable[ScannerMetadata]) -> Evidence:
        said = list(scanners)
        names = {" ".join(s.patient_name.split()) for s in said if s.patient_name}
        refs = {s.patient_ref.strip() for s in said if s.patient_ref}
        births = {s.patient_birth_date for s in said if s.patient_birth_date}
        return cls(
            name=names.pop() if len(names) == 1 else None,
            ref=refs.pop() if len(refs) == 1 else None,
            birth_date=births.pop() if len(births) == 1 else None,
        )


def name_readings(name: str) -> list[tuple[str, str]]:
    """Every (first, last) a written name can mean, lower-cased: both orders around a comma,
    and every split of a name written without one ("Mary Ann Smith": Mary | Ann Smith, ...)."""
    readings: list[tuple[str, str]] = []
    if "," in name:
        before, _, after = name.partition(",")
        parts = [" ".join(before.split()).lower(), " ".join(after.split()).lower()]
        if all(parts):
            readings = [(parts[1], parts[0]), (parts[0], parts[1])]
    else:
        words = name.lower().split()
        if 2 <= len(words) <= _MAX_NAME_WORDS:
            for cut in range(1, len(words)):
                head, tail = " ".join(words[:cut]), " ".join(words[cut:])
                readings += [(head, tail), (tail, head)]
    return list(dict.fromkeys(readings))


def _born_as_said(patient: Patient, birth_date: date | None) -> bool:
    return birth_date is None or patient.date_of_birth in (None, birth_date)


def _by_ref(db: Session, clinic_id: uuid.UUID, ref: str | None) -> Patient | None:
    try:
        patient_id = uuid.UUID(ref) if ref else None
    except ValueError:
        return None
    return repository.live_patient(db, clinic_id, patient_id) if patient_id else None


def match_patient(db: Session, clinic_id: uuid.UUID, evidence: Evidence) -> Patient | None:
    """The one patient of the clinic the evidence names, or None (see the module docstring)."""
    named: dict[uuid.UUID, Patient] = {}
    for first, last in name_readings(evidence.name) if evidence.name else []:
        for patient in repository.patients_named(db, clinic_id, first, last):
            if _born_as_said(patient, evidence.birth_date):
                named[patient.id] = patient
    by_ref = _by_ref(db, clinic_id, evidence.ref)
    if by_ref is not None and _born_as_said(by_ref, evidence.birth_date):
        if evidence.name is None or by_ref.id in named:
            return by_ref
        return None  # the chart number and the name disagree
    return next(iter(named.values())) if len(named) == 1 else None
