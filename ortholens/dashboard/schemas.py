from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from ortholens.http.schemas import ApiModel


class Summary(ApiModel):
    pending_scans: int
    total_patients: int = Field(description="ACTIVE patients.")
    compliance_percentage: float = Field(description="On-time active patients, percent.")
    tagging_rate: float = Field(description="Tagged / all sessions of the last 30 days, percent.")


class FeedItem(ApiModel):
    type: Literal["scan", "message", "tag_set"]
    id: uuid.UUID
    at: datetime
    patient_id: uuid.UUID
    patient_name: str | None = None
    scan_session_id: uuid.UUID | None = None
    thread_id: uuid.UUID | None = None
    status: str | None = None
    sender_type: str | None = None
    preview: str | None = Field(None, description="The start of a message.")
    overall_tracking: int | None = None


class OverduePatient(ApiModel):
    patient_id: uuid.UUID
    patient_name: str
    last_scan_at: datetime | None
    counted_from: datetime
    days_since: int
    frequency_days: int
    days_overdue: int


class TagAnalytics(ApiModel):
    clinic_id: uuid.UUID
    window_days: int
    since: datetime
    total_sessions: int
    tagged_sessions: int
    tagging_rate: float
    discount_tier: int = Field(description="Discount in percent earned by the tagging rate.")
