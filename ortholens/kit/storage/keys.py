"""Object keys and content types: the two names a client can influence in the object store.

A key is a relative, `/`-separated path such as
`{clinic}/{patient}/{kind}/{uuid}/{variant}.{ext}` (ARCHITECTURE rule 3). Keys map directly to
file paths in the local store and to S3 keys, so they are kept to a conservative alphabet.
"""

from __future__ import annotations

import re
import uuid

from ortholens.kit.errors import InvalidInput

MAX_KEY_LENGTH = 512
MAX_CONTENT_TYPE_LENGTH = 255

_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_EXTENSION = re.compile(r"[a-z0-9]{1,16}")
# RFC 9110 media type without parameters: `type "/" subtype`, both RFC 9110 tokens.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+/[A-Za-z0-9!#$%&'*+.^_`|~-]+")


def validate_key(key: str) -> str:
    """Return `key` unchanged if it is a safe object key, else raise InvalidInput.

    Segments use `[A-Za-z0-9._-]`; no empty segment, no leading `/`, at most 512 characters, and no
    segment starts with `.` (that rules out `.`/`..` and reserves dot-names for store internals).
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"An object key must be 1 to {MAX_KEY_LENGTH} characters long.")
    for segment in key.split("/"):
        if not segment:
            raise InvalidInput("An object key must be relative and have no empty segments.")
        if not _SEGMENT.fullmatch(segment):
            raise InvalidInput(
                "An object key may only contain letters, digits, '.', '_', '-', '/'."
            )
        if segment.startswith("."):
            raise InvalidInput("An object key segment may not start with '.'.")
    return key


def validate_content_type(content_type: str) -> str:
    """Return the lower-cased media type (`type/subtype`, no parameters) or raise InvalidInput."""
    media_type = content_type.strip().lower()
    if len(media_type) > MAX_CONTENT_TYPE_LENGTH or not _MEDIA_TYPE.fullmatch(media_type):
        raise InvalidInput("A content type must look like 'image/jpeg' (no parameters).")
    return media_type


def make_key(
    clinic_id: uuid.UUID,
    patient_id: uuid.UUID,
    kind: str,
    variant: str,
    ext: str,
    *,
    object_id: uuid.UUID | None = None,
) -> str:
    """A new server-generated key `{clinic}/{patient}/{kind}/{uuid}/{variant}.{ext}`.

    `kind` (e.g. `photo`) and `variant` (e.g. `original`, `thumb-256`) are single key segments;
    `ext` is a file extension without the dot (a leading dot is tolerated), stored lower-case.
    `object_id` defaults to a fresh random UUID, so two calls never produce the same key.
    """
    extension = ext.lower().removeprefix(".")
    if not _EXTENSION.fullmatch(extension):
        raise InvalidInput("A file extension must be 1 to 16 letters or digits.")
    for name, value in (("kind", kind), ("variant", variant)):
        if "/" in value:
            raise InvalidInput(f"The object {name} must be a single key segment.")
    object_id = object_id or uuid.uuid4()
    return validate_key(f"{clinic_id}/{patient_id}/{kind}/{object_id}/{variant}.{extension}")
