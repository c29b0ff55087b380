"""The OpenAPI document as the API really answers: every error as `application/problem+json`.

FastAPI documents a route's success answer and a 422 with its own validation body; ours renders
every error through `problems.py` instead, and every operation can answer the errors below (a
missing or expired token, a role without the permission or a failed CSRF echo, an id that does not
exist or is another clinic's, a state that forbids the change, a body over its limit, input that
does not validate, a store or service that did not answer). `openapi_document` adds them to every
operation centrally, so a route only declares what is particular to it (`problem_responses(429)`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ortholens.http.problems import MEDIA_TYPE

PROBLEM_SCHEMA_NAME = "Problem"
PROBLEM_REF = f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"

# Answers any operation can give, with the reason a client reads in the document.
COMMON_ERRORS: dict[int, str] = {
    401: "Not signed in, or the token or session is no longer valid.",
    403: "Signed in, but this role may not do this (or the CSRF echo is missing).",
    404: "Nothing with this id in the caller's clinic (another clinic's id answers the same).",
    409: "The record's state does not allow this (already done, duplicate, taken).",
    413: "The request body is larger than this endpoint accepts.",
    422: "The request does not match what this endpoint accepts; `errors` says where.",
    503: "The object store, database or another service did not answer; try again later.",
}

# Answers only some operations give; a route names them with `problem_responses(...)`.
OCCASIONAL_ERRORS: dict[int, str] = {
    410: "Gone: the link or file expired.",
    429: "Too many attempts; `Retry-After` says when to try again.",
    502: "An outside service answered with something unusable.",
}

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": PROBLEM_SCHEMA_NAME,
    "description": "RFC 9457 problem details; never a stack trace, SQL or patient data.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "instance": {"type": "string", "description": "The path that was requested."},
        "request_id": {"type": ["string", "null"], "description": "Quote it when reporting."},
        "errors": {
            "type": "array",
            "description": "For 422 validation errors: where and why, never the value sent.",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _problem_answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can also answer these statuses (from OCCASIONAL_ERRORS)."""
    return {status: _problem_answer(OCCASIONAL_ERRORS[status]) for status in statuses}


def _document_errors(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for code, description in COMMON_ERRORS.items():
        responses[str(code)] = _problem_answer(description)
    for key, answer in responses.items():
        # Occasional errors declared on the route keep their text but get the problem body.
        if key.isdigit() and int(key) >= 400:
            answer["content"] = {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
    operation["responses"] = dict(sorted(responses.items()))


_FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _is_file(field_schema: dict[str, Any]) -> bool:
    return "contentMediaType" in field_schema or field_schema.get("format") == "binary"


def _form_fields_as_sent(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    # A form field cannot carry null (a client that sends "null" sends a string); leaving the
    # field out is how a form says "none", so an optional field's schema is its value's schema.
    # And an empty file is no file: every upload route refuses one, so files declare minLength 1.
    for media_type, body in operation.get("requestBody", {}).get("content", {}).items():
        ref = body.get("schema", {}).get("$ref", "")
        if media_type not in _FORM_MEDIA_TYPES or not ref.startswith("#/components/schemas/"):
            continue
        form = schemas.get(ref.rsplit("/", 1)[1], {})
        for name, field_schema in form.get("properties", {}).items():
            options = field_schema.get("anyOf")
            kept = [option for option in options or [] if option.get("type") != "null"]
            if options and len(kept) == 1:
                del field_schema["anyOf"]
                field_schema.update(kept[0])
                if field_schema.get("default", ...) is None:
                    del field_schema["default"]
            for candidate in (field_schema, field_schema.get("items", {})):
                if _is_file(candidate):
                    candidate["minLength"] = 1
            if name in form.get("required", []) and _is_file(field_schema.get("items", {})):
                field_schema.setdefault("minItems", 1)  # a required list of files: one at least


def _drop_unused_validation_schemas(schemas: dict[str, Any]) -> None:
    # FastAPI's own 422 body is never sent; its schemas would only mislead a client generator.
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's generated document with the problem answers every operation can give."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _drop_unused_validation_schemas(schemas)
    schemas[PROBLEM_SCHEMA_NAME] = _PROBLEM_SCHEMA
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in _HTTP_METHODS:
                _document_errors(operation)
                _form_fields_as_sent(operation, schemas)
    app.openapi_schema = document
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve `openapi_document` at the app's openapi_url."""

    def document() -> dict[str, Any]:
        return openapi_document(app)

    app.openapi = document  # type: ignore[method-assign]
