"""Seed 004 section 6: the patient's push subscription and the key the browser needs for it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ortholens.auth.deps import CurrentPatient
from ortholens.http.deps import SessionDep, SettingsDep
from ortholens.notify import service
from ortholens.notify.deps import VapidDep
from ortholens.notify.schemas import PushConfig, SubscribeRequest, SubscriptionRead

router = APIRouter(tags=["notifications"])


@router.get("/api/patient/push/config", response_model=PushConfig)
def push_config(principal: CurrentPatient, vapid: VapidDep) -> PushConfig:
    """The VAPID public key for `pushManager.subscribe({applicationServerKey})`."""
    return PushConfig(application_server_key=vapid.public_key_b64url)


@router.post("/api/patient/push/subscribe", response_model=SubscriptionRead)
def subscribe(
    body: SubscribeRequest,
    request: Request,
    principal: CurrentPatient,
    db: SessionDep,
    settings: SettingsDep,
) -> SubscriptionRead:
    """Save this browser's push subscription (an existing endpoint is updated, not duplicated)."""
    row = service.subscribe(
        db,
        principal,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        user_agent=request.headers.get("user-agent"),
        allow_insecure_endpoints=settings.push_allow_insecure_endpoints,
    )
    return SubscriptionRead.model_validate(row)


@router.post("/api/patient/push/unsubscribe", status_code=204)
def unsubscribe(body: SubscribeRequest, principal: CurrentPatient, db: SessionDep) -> Response:
    """Forget this browser's subscription (when the patient turns notifications off)."""
    service.unsubscribe(db, principal, body.endpoint)
    return Response(status_code=204)
