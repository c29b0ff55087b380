from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from ortholens.http.schemas import ApiModel


class SubscriptionKeys(ApiModel):
    p256dh: str = Field(min_length=20, max_length=200)
    auth: str = Field(min_length=8, max_length=100)


class SubscribeRequest(ApiModel):
    """`PushSubscription.toJSON()` as the browser gives it."""

    endpoint: str = Field(
        min_length=10,
        max_length=1000,
        pattern=r"^https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+$",
        description="The push service's https URL, to a public address.",
    )
    keys: SubscriptionKeys
    expiration_time: int | None = None


class SubscriptionRead(ApiModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


class PushConfig(ApiModel):
    application_server_key: str = Field(
        description="The VAPID public key (base64url) to pass to pushManager.subscribe()."
    )
