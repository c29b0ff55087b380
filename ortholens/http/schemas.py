"""The base of every API schema: camelCase on the wire (as seed 004 writes its JSON), snake_case
in Python, and built from ORM objects."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)
