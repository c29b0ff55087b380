"""Seed 004's business rules at their boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ortholens.dashboard.rules import compliance_entry, discount_tier, percentage

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rate", "tier"),
    [(0.0, 0), (49.9, 0), (50.0, 10), (69.9, 10), (70.0, 20), (84.9, 20), (85.0, 30), (100.0, 30)],
)
def test_discount_tiers_at_their_boundaries(rate: float, tier: int) -> None:
    assert discount_tier(rate) == tier


def test_percentages_round_to_one_decimal_and_survive_nothing_to_count() -> None:
    assert percentage(1, 3) == 33.3
    assert percentage(0, 0) == 0.0


@pytest.mark.parametrize(
    ("days_ago", "on_time"), [(0, True), (13.9, True), (14, True), (15, False)]
)
def test_a_patient_with_scans_is_on_time_up_to_their_frequency(
    days_ago: float, on_time: bool
) -> None:
    entry = compliance_entry(
        "p",
        last_scan_at=NOW - timedelta(days=days_ago),
        onboarded_at=NOW - timedelta(days=100),
        created_at=NOW - timedelta(days=200),
        frequency_days=14,
        now=NOW,
    )
    assert entry.on_time is on_time
    assert entry.days_overdue == (0 if on_time else 1)


def test_a_patient_who_never_scanned_counts_from_onboarding_then_creation() -> None:
    onboarded = compliance_entry(
        "p",
        last_scan_at=None,
        onboarded_at=NOW - timedelta(days=10),
        created_at=NOW - timedelta(days=90),
        frequency_days=7,
        now=NOW,
    )
    assert (onboarded.days_since, onboarded.on_time, onboarded.days_overdue) == (10, False, 3)
    never_registered = compliance_entry(
        "p",
        last_scan_at=None,
        onboarded_at=None,
        created_at=NOW - timedelta(days=5),
        frequency_days=7,
        now=NOW,
    )
    assert never_registered.on_time and never_registered.counted_from == NOW - timedelta(days=5)
