"""The base of every API schema: camelCase on the wire (as seed 004 writes its JSON), snake_case
in Python, and built from ORM objects; and the text types every free-text field uses."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

# C0 controls and DEL, except tab, line feed and carriage return (a textarea sends CRLF). NUL in
# particular: PostgreSQL refuses it in text and SQLite stores it, so the backends would differ.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")
CONTROL_CHARACTER_MESSAGE = "Text may not contain control characters (such as NUL)."


def has_control_characters(value: str) -> bool:
    """Whether `value` holds a control character other than tab, line feed or carriage return."""
    return _CONTROL_CHARACTERS.search(value) is not None


def refuse_control_characters(value: str) -> str:
    """Pydantic check of a multi-line text (messages, notes): a 422 on a control character."""
    if has_control_characters(value):
        raise ValueError(CONTROL_CHARACTER_MESSAGE)
    return value


def refuse_line_breaks(value: str) -> str:
    """Pydantic check of a one-line text (names, subjects, labels): no controls, no line breaks."""
    refuse_control_characters(value)
    if _LINE_BREAKS.search(value):
        raise ValueError("This field is one line of text.")
    return value


@dataclass(frozen=True)
class _TextRule:
    """A check run after pydantic's own, declared in the OpenAPI document as a `pattern` so that
    a generated client (and schemathesis) knows what the server refuses."""

    check: Callable[[str], str]
    pattern: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema


# Add to a field's `Annotated[str, ...]`, e.g. `Annotated[str, Field(max_length=100), ONE_LINE]`.
MULTI_LINE = _TextRule(refuse_control_characters, r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")
ONE_LINE = _TextRule(refuse_line_breaks, r"^[^\x00-\x1f\x7f]*$")
# For fields whose surrounding whitespace is stripped before a `min_length=1`: the pattern also
# says that a text of only whitespace is refused (as empty).
NON_BLANK_MULTI_LINE = _TextRule(
    refuse_control_characters,
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$",
)
NON_BLANK_ONE_LINE = _TextRule(
    refuse_line_breaks, r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
)

Text = Annotated[str, MULTI_LINE]
OneLineText = Annotated[str, ONE_LINE]


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)
