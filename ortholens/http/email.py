"""E-mail address fields, declared in the OpenAPI document as the server checks them.

pydantic's `EmailStr` (`email-validator`) also refuses special-use domains (`.test`, `.local`,
`localhost`, ...) that JSON Schema's `format: email` allows, so a generated client sent
addresses the document called valid and got a 422. The same check runs here, and the schema
says so with a pattern that excludes those domains.
"""

from __future__ import annotations

from typing import Annotated

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic import AfterValidator, Field


def _any_case(name: str) -> str:
    # ECMA patterns have no flags; email-validator compares domains case-insensitively.
    return "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in name)


_SPECIAL_USE = "|".join(_any_case(name) for name in sorted(SPECIAL_USE_DOMAIN_NAMES))
# One @, and a domain that neither is nor ends in a special-use name.
EMAIL_PATTERN = rf"^[^@\s]+@(?!(?:[^@]*\.)?(?:{_SPECIAL_USE})$)[^@\s]+$"


def _normalized_address(value: str) -> str:
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid e-mail address: {exc}") from None
    return checked.normalized


EmailAddress = Annotated[
    str,
    Field(max_length=320, json_schema_extra={"format": "email", "pattern": EMAIL_PATTERN}),
    AfterValidator(_normalized_address),
]
