"""The business rules of seed 004 as pure functions, so their boundaries are tested directly.

Compliance: an ACTIVE patient is on time when the days since their last scan session are at most
their scan frequency (default 14). A patient who never scanned counts from their onboarding date
(registration in the portal; the record's creation when they never registered).

Tagging analytics: 30-day window; rate = tagged sessions / all sessions * 100; discount tier
85 %+ -> 30, 70-84 % -> 20, 50-69 % -> 10, below 50 % -> 0 (percentage points of discount).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

ANALYTICS_WINDOW_DAYS = 30
# (lowest rate, tier), highest first.
DISCOUNT_TIERS: tuple[tuple[float, int], ...] = ((85.0, 30), (70.0, 20), (50.0, 10))


def discount_tier(tagging_rate: float) -> int:
    """The discount (percent) a tagging rate earns; 84.99 % is still the 20 % tier."""
    for lowest, tier in DISCOUNT_TIERS:
        if tagging_rate >= lowest:
            return tier
    return 0


def percentage(part: int, whole: int) -> float:
    """`part / whole * 100`, rounded to one decimal; 0 when there is nothing to count."""
    return round(part * 100.0 / whole, 1) if whole else 0.0


@dataclass(frozen=True)
class ComplianceEntry:
    patient_id: object
    last_scan_at: datetime | None
    counted_from: datetime
    days_since: int
    frequency_days: int

    @property
    def on_time(self) -> bool:
        return self.days_since <= self.frequency_days

    @property
    def days_overdue(self) -> int:
        return max(0, self.days_since - self.frequency_days)


def days_between(earlier: datetime, later: datetime) -> int:
    """Whole days elapsed (a scan 13.5 days ago is 13 days ago)."""
    return max(0, math.floor((later - earlier).total_seconds() / 86400))


def compliance_entry(
    patient_id: object,
    *,
    last_scan_at: datetime | None,
    onboarded_at: datetime | None,
    created_at: datetime,
    frequency_days: int,
    now: datetime,
) -> ComplianceEntry:
    counted_from = last_scan_at or onboarded_at or created_at
    return ComplianceEntry(
        patient_id=patient_id,
        last_scan_at=last_scan_at,
        counted_from=counted_from,
        days_since=days_between(counted_from, now),
        frequency_days=frequency_days,
    )


class MonitoredPatient(Protocol):
    """What the compliance rule reads of a patient (the `Patient` model has it all)."""

    @property
    def id(self) -> object: ...
    @property
    def onboarded_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def scan_frequency_days(self) -> int: ...


def patient_compliance(
    patient: MonitoredPatient, last_scan_at: datetime | None, now: datetime
) -> ComplianceEntry:
    """The compliance entry of a patient whose latest scan session is `last_scan_at`."""
    return compliance_entry(
        patient.id,
        last_scan_at=last_scan_at,
        onboarded_at=patient.onboarded_at,
        created_at=patient.created_at,
        frequency_days=patient.scan_frequency_days,
        now=now,
    )
