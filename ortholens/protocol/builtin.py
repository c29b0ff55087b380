"""The photo series every clinic has (DOMAIN.md "Photo series"), coded with ADA-1100 view codes."""

from __future__ import annotations

from dataclasses import dataclass

VIEW_LABELS: dict[str, str] = {
    "EV01": "right profile",
    "EV08": "45-degree right",
    "EV12": "45-degree left",
    "EV15": "frontal at rest",
    "EV19": "frontal smile",
    "IV07": "intraoral frontal",
    "IV01": "right buccal",
    "IV18": "left buccal",
    "IV25": "maxillary occlusal",
    "IV27": "mandibular occlusal",
}


@dataclass(frozen=True)
class Slot:
    view_code: str
    label: str
    required: bool = True


@dataclass(frozen=True)
class Protocol:
    key: str  # "builtin:<name>" for these, the row id for clinic protocols
    name: str
    slots: tuple[Slot, ...]
    builtin: bool = False


def _slots(*codes: str) -> tuple[Slot, ...]:
    return tuple(Slot(code, VIEW_LABELS[code]) for code in codes)


# ABO clinical records: 3 extraoral and 5 intraoral views.
ABO_RECORDS = Protocol(
    key="builtin:abo-8",
    name="ABO clinical records (8 views)",
    slots=_slots("EV01", "EV15", "EV19", "IV07", "IV01", "IV18", "IV25", "IV27"),
    builtin=True,
)
# Seed 004's scan wizard: the five intraoral views a patient captures at home.
REMOTE_MONITORING = Protocol(
    key="builtin:remote-monitoring-5",
    name="Remote monitoring (5 intraoral views)",
    slots=_slots("IV07", "IV01", "IV18", "IV25", "IV27"),
    builtin=True,
)
BUILTIN_PROTOCOLS: tuple[Protocol, ...] = (ABO_RECORDS, REMOTE_MONITORING)
