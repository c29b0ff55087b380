"""The OpenAPI document tells the truth: error answers, declared constraints and `Allow`.

Walks the document the app serves: every operation documents its error answers as
`application/problem+json`, the constraints the server enforces are in the schema (so a
generated client can check them before sending), and a wrong method on any documented path
answers 405 with `Allow` naming every method the document lists for it.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ortholens.http.openapi import COMMON_ERRORS, PROBLEM_REF
from ortholens.http.problems import MEDIA_TYPE

HTTP_METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def schema_of(document: dict[str, Any], name: str) -> dict[str, Any]:
    return document["components"]["schemas"][name]


def request_schema(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    ref = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return schema_of(document, ref["$ref"].rsplit("/", 1)[1])


def query_parameter(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    (parameter,) = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name]
    return parameter["schema"]


def test_every_operation_documents_its_errors_as_problem_json(document: dict[str, Any]) -> None:
    found = operations(document)
    assert len(found) > 50
    for method, path, operation in found:
        responses = operation["responses"]
        for status in COMMON_ERRORS:
            assert str(status) in responses, f"{method.upper()} {path} lacks {status}"
        for status, answer in responses.items():
            if int(status) >= 400:
                assert answer["content"] == {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}, (
                    f"{method.upper()} {path} {status}"
                )


def test_the_problem_schema_is_what_errors_carry(
    document: dict[str, Any], client: TestClient
) -> None:
    problem = schema_of(document, "Problem")
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance"}
    assert "HTTPValidationError" not in document["components"]["schemas"]  # never sent
    answer = client.post("/api/auth/login", json={"email": 1})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == MEDIA_TYPE
    assert set(problem["required"]) <= set(answer.json())
    assert set(answer.json()) <= set(problem["properties"])


def test_review_tags_declare_their_ranges_and_vocabulary(document: dict[str, Any]) -> None:
    tags = schema_of(document, "TagSetCreate")["properties"]
    for name in ("overallTracking", "oralHygiene"):
        assert (tags[name]["minimum"], tags[name]["maximum"]) == (1, 3)
    assert "PLAQUE" in tags["detailTags"]["items"]["enum"]


def test_a_scan_export_declares_how_many_scans_it_takes(document: dict[str, Any]) -> None:
    export = request_schema(document, "post", "/api/imaging/3d/export")["properties"]
    assert (export["imageIds"]["minItems"], export["imageIds"]["maxItems"]) == (1, 10)
    assert export["targetFaces"]["anyOf"][0]["minimum"] == 4


@pytest.mark.parametrize(
    ("path", "name"),
    [("/api/patients/{patient_id}/images", "cursor"), ("/api/scans/sessions", "cursor")],
)
def test_cursors_declare_their_form(document: dict[str, Any], path: str, name: str) -> None:
    schema = query_parameter(document, path, name)["anyOf"][0]
    assert re.fullmatch(schema["pattern"], "MjAyNi0xMi0wNFQwMDowMDowMHwx")
    assert not re.fullmatch(schema["pattern"], "__dict__!")


def test_the_patient_list_cursor_is_declared_an_id(document: dict[str, Any]) -> None:
    schema = query_parameter(document, "/api/patients", "cursor")["anyOf"][0]
    assert re.fullmatch(schema["pattern"], str(uuid.uuid4()))
    assert not re.fullmatch(schema["pattern"], "__dict__")


@pytest.mark.parametrize(
    ("schema_name", "field"),
    [
        ("StaffCreate", "email"),
        ("RegisterRequest", "email"),
        ("PatientCreate", "guardianEmail"),
        ("InviteCreate", "email"),
    ],
)
def test_email_fields_declare_the_rule_the_server_applies(
    document: dict[str, Any], schema_name: str, field: str
) -> None:
    declared = schema_of(document, schema_name)["properties"][field]
    declared = declared["anyOf"][0] if "anyOf" in declared else declared
    assert declared["format"] == "email"
    assert re.fullmatch(declared["pattern"], "dr.who@clinic.example.com")
    assert not re.fullmatch(declared["pattern"], "dr.who@clinic.test")  # special-use: refused


def test_patient_fields_that_cannot_be_cleared_take_no_null(document: dict[str, Any]) -> None:
    update = schema_of(document, "PatientUpdate")["properties"]
    for name in ("firstName", "lastName", "status", "scanFrequencyDays"):
        assert "anyOf" not in update[name] and update[name].get("type") != "null", name
    assert {"type": "null"} in update["guardianEmail"]["anyOf"]  # this one may be cleared


def test_an_mfa_code_is_declared_six_digits(document: dict[str, Any]) -> None:
    pattern = schema_of(document, "MfaCode")["properties"]["code"]["pattern"]
    assert re.fullmatch(pattern, "123 456") and not re.fullmatch(pattern, "")


def test_server_checked_choices_are_declared(document: dict[str, Any]) -> None:
    assert "IV07" in schema_of(document, "SlotIn")["properties"]["viewCode"]["enum"]
    upload = schema_of(document, "UploadUrlRequest")["properties"]["contentType"]
    assert "image/jpeg" in upload["enum"]
    endpoint = schema_of(document, "SubscribeRequest")["properties"]["endpoint"]["pattern"]
    assert not re.fullmatch(endpoint, "0000000000")


def test_form_fields_are_declared_as_a_form_sends_them(document: dict[str, Any]) -> None:
    files = 0
    for name, schema in document["components"]["schemas"].items():
        if name.startswith("Body_"):  # FastAPI's name for a form body
            for field, declared in schema["properties"].items():
                options = declared.get("anyOf", [])
                assert {"type": "null"} not in options, f"{name}.{field}"
                for candidate in (declared, declared.get("items", {})):
                    if "contentMediaType" in candidate:
                        assert candidate["minLength"] == 1, f"{name}.{field}: empty file"
                        files += 1
    assert files >= 2  # the photo and the scan uploads


def _concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), template)


def _matches(template: str, path: str) -> bool:
    return re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) is not None


def test_a_wrong_method_answers_405_with_every_method_of_the_path(
    document: dict[str, Any], client: TestClient
) -> None:
    checked = 0
    for template in document["paths"]:
        path = _concrete(template)
        documented = {
            method.upper()
            for other, other_item in document["paths"].items()
            if _matches(other, path)
            for method in other_item
            if method in HTTP_METHODS
        }
        unused = next(m for m in ("PUT", "PATCH", "DELETE", "POST", "GET") if m not in documented)
        answer = client.request(unused, path)
        assert answer.status_code == 405, f"{unused} {template}"
        allowed = {m.strip() for m in answer.headers["allow"].split(",")}
        assert allowed == documented, template
        assert answer.headers["content-type"] == MEDIA_TYPE
        checked += 1
    assert checked == len(document["paths"])


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/images/{id}", {"GET", "DELETE"}),
        ("/api/patients/{id}", {"GET", "PATCH"}),
        ("/api/storage/objects/{id}", {"GET", "PUT"}),
    ],
)
def test_allow_lists_both_methods_of_the_paths_issue_12_named(
    client: TestClient, path: str, methods: set[str]
) -> None:
    answer = client.post(path.replace("{id}", str(uuid.uuid4())))
    assert answer.status_code == 405
    assert {m.strip() for m in answer.headers["allow"].split(",")} == methods
