from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from ortholens.http.schemas import NON_BLANK_MULTI_LINE, NON_BLANK_ONE_LINE, ApiModel
from ortholens.models import SenderType

MAX_MESSAGE_CHARS = 5000
MAX_SUBJECT_CHARS = 200
# Surrounding whitespace is dropped first, so a message of spaces is refused as empty.
Content = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE_CHARS),
    NON_BLANK_MULTI_LINE,
]
Subject = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SUBJECT_CHARS),
    NON_BLANK_ONE_LINE,
]


class ThreadCreate(ApiModel):
    patient_id: uuid.UUID
    subject: Subject
    content: Content | None = Field(None, description="An optional first message.")


class MessageCreate(ApiModel):
    thread_id: uuid.UUID
    content: Content


class MessageRead(ApiModel):
    id: uuid.UUID
    thread_id: uuid.UUID
    sender_type: SenderType
    sender_user_id: uuid.UUID | None
    content: str
    read_at: datetime | None
    created_at: datetime


class ThreadRead(ApiModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    subject: str
    created_at: datetime
    updated_at: datetime
    unread_count: int = Field(description="Messages from the other side you have not read.")
    last_message: MessageRead | None = None


class ThreadWithMessages(ThreadRead):
    messages: list[MessageRead] = Field(description="A page of the messages, oldest first.")
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the messages after these; null at the end."
    )
