"""The doctor's remote-monitoring dashboard (issue 6): summary cards, the pending review queue
(oldest first), the activity feed and the overdue patients.

Everything comes from the dashboard and review services with the signed-in principal, so the
clinic scope and the audit of each read are theirs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ortholens.auth.policy import Permission, allowed, grant
from ortholens.auth.principals import Authorized
from ortholens.dashboard import service as dashboard
from ortholens.http.deps import SessionDep
from ortholens.models import Patient, ScanSession, ScanSessionStatus
from ortholens.review import service as review
from ortholens.web.auth import PageCsrf, RequirePagePermission
from ortholens.web.review_page import tracking_label
from ortholens.web.routing import PageRoute
from ortholens.web.templating import render

router = APIRouter(include_in_schema=False, route_class=PageRoute, dependencies=[PageCsrf])

Monitor = Annotated[Authorized, RequirePagePermission(Permission.MONITORING_READ)]

QUEUE_SIZE = 50


@router.get("/monitoring")
def dashboard_page(request: Request, db: SessionDep, auth: Monitor) -> Response:
    """The clinic's remote monitoring at a glance, with the queue of check-ins to review."""
    role = auth.principal.role
    view_scope = grant(role, Permission.IMAGING_VIEW)
    queue: list[tuple[ScanSession, Patient]] = []
    more = False
    if view_scope is not None:
        # The queue belongs to the review pages (imaging:view); the dashboard shows its front.
        viewer = Authorized(auth.principal, Permission.IMAGING_VIEW, view_scope)
        queue, cursor = review.list_queue(
            db,
            viewer,
            status=ScanSessionStatus.PENDING,
            patient_id=None,
            cursor=None,
            limit=QUEUE_SIZE,
        )
        more = cursor is not None
    return render(
        request,
        "monitoring/dashboard.html",
        {
            "summary": dashboard.summary(db, auth, None),
            "queue": queue,
            "queue_more": more,
            "can_view_sessions": view_scope is not None,
            "can_read_messages": allowed(role, Permission.MESSAGES_READ),
            "feed": dashboard.feed(db, auth, None),
            "overdue": dashboard.overdue(db, auth, None),
            "tracking_label": tracking_label,
        },
    )
