"""Words a person would use: enum values as people spell them, counts with the right plural,
a staff form that asks for a role instead of defaulting to Doctor and says which field is wrong,
and a sign-in page that promises only what OrthoLens shows."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from ortholens.models import Clinic, FileType, ImageSource, Role, User
from ortholens.runtime import Runtime
from ortholens.web.templating import humanize, plural
from tests.factories import create_user
from tests.fixtures.pages import get, post_form, signed_in


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (FileType.XRAY, "X-ray"),
        (FileType.CBCT, "CBCT"),
        (FileType.SCAN_3D, "3D scan"),
        (FileType.PHOTO, "Photo"),
        (ImageSource.PATIENT_APP, "Patient app"),
        (Role.CLINIC_ADMIN, "Clinic admin"),
    ],
)
def test_enum_values_read_as_words(value: object, words: str) -> None:
    assert humanize(value) == words


def test_counts_agree_with_their_noun() -> None:
    assert plural(1, "photo") == "1 photo"
    assert plural(0, "photo") == "0 photos"
    assert plural(5, "photo") == "5 photos"
    assert plural(2, "reply", "replies") == "2 replies"


@pytest.fixture
def admin(runtime: Runtime, clinic: Clinic) -> User:
    return create_user(runtime, clinic, Role.CLINIC_ADMIN)


def test_new_staff_form_has_no_preselected_role(client: TestClient, admin: User) -> None:
    signed_in(client, admin)
    html = get(client, "/staff").text
    select = re.search(r'<select class="select" id="f-role".*?</select>', html, re.DOTALL)
    assert select
    selected = re.findall(r'<option value="([^"]*)"[^>]* selected', select.group(0))
    assert selected == [""]
    assert "required" in select.group(0).split(">", 1)[0]


def test_staff_without_a_role_is_asked_to_choose(client: TestClient, admin: User) -> None:
    signed_in(client, admin)
    page = post_form(client, "/staff", {"full_name": "Nora New", "email": "nora@example.com"})
    assert page.status_code == 422
    assert "Choose a role from the list." in page.text


@pytest.mark.parametrize("email", ["nora", "nora@", "nora@example", "@example.com"])
def test_a_bad_email_is_answered_about_the_email(
    client: TestClient, admin: User, email: str
) -> None:
    signed_in(client, admin)
    page = post_form(
        client, "/staff", {"full_name": "Nora New", "email": email, "role": "read_only"}
    )
    assert page.status_code == 422
    assert "is not an e-mail address" in page.text
    assert "Enter the person&#39;s full name" not in page.text
    assert 'value="Nora New"' in page.text  # what was typed is kept


def test_a_missing_name_is_answered_about_the_name(client: TestClient, admin: User) -> None:
    signed_in(client, admin)
    page = post_form(
        client, "/staff", {"full_name": " ", "email": "nora@example.com", "role": "read_only"}
    )
    assert page.status_code == 422
    assert "Enter the person&#39;s full name." in page.text
    assert "is not an e-mail address" not in page.text


def test_sign_in_page_promises_only_what_is_shown(client: TestClient) -> None:
    html = client.get("/login").text
    assert "CBCT" not in html
    assert "X-ray" not in html
    assert "3D scans" in html
