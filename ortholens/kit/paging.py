"""Keyset pagination cursors: an opaque token for "after this row" in (time, id) order."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from ortholens.kit.errors import InvalidInput

# What an encoded cursor looks like (URL-safe base64), for the API to declare and check.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+={0,2}$"


def encode_cursor(at: datetime, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{row_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The (time, id) a cursor stands for; a tampered or stale cursor is a clear 422."""
    try:
        at, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), uuid.UUID(row_id)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("This cursor is not valid; start from the first page.") from None
