"""Seed 004 section 5: `/api/dashboard/*` and `/api/tagging/analytics`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from ortholens.auth.deps import RequirePermission
from ortholens.auth.policy import Permission
from ortholens.auth.principals import Authorized
from ortholens.dashboard import service
from ortholens.dashboard.schemas import FeedItem, OverduePatient, Summary, TagAnalytics
from ortholens.http.deps import SessionDep, writes

router = APIRouter(tags=["dashboard"])
Monitor = Annotated[Authorized, RequirePermission(Permission.MONITORING_READ)]
Analyst = Annotated[Authorized, RequirePermission(Permission.ANALYTICS_READ)]
ClinicParam = Annotated[
    uuid.UUID | None, Query(alias="clinicId", description="Super admins: which clinic.")
]


@router.get("/api/dashboard/summary", response_model=Summary)
def summary(auth: Monitor, db: SessionDep, clinic_id: ClinicParam = None) -> Summary:
    """Pending check-ins, active patients, compliance and the 30-day tagging rate."""
    return service.summary(db, auth, clinic_id)


@router.get("/api/dashboard/feed", response_model=list[FeedItem])
def feed(auth: Monitor, db: SessionDep, clinic_id: ClinicParam = None) -> list[FeedItem]:
    """Recent check-ins, messages and reviews, newest first."""
    return service.feed(db, auth, clinic_id)


@router.get("/api/dashboard/overdue", response_model=list[OverduePatient])
def overdue(auth: Monitor, db: SessionDep, clinic_id: ClinicParam = None) -> list[OverduePatient]:
    """Active patients whose last check-in is older than their scan frequency."""
    return service.overdue(db, auth, clinic_id)


@router.get("/api/tagging/analytics", response_model=TagAnalytics)
@writes  # saves the rate and tier on the clinic
def tagging_analytics(auth: Analyst, db: SessionDep, clinic_id: ClinicParam = None) -> TagAnalytics:
    """30-day tagging rate and the discount tier it earns (saved on the clinic)."""
    return service.tagging_analytics(db, auth, clinic_id)
