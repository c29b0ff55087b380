"""Schemathesis over the OpenAPI document: generated requests to every operation, signed in.

Bounded so it fits in the suite (a fixed seed, a few examples per operation, SQLite only: the
answers being checked are the HTTP layer's, which the backend does not change). A case fails on
any 5xx and on any answer the document does not describe (status, content type, headers, body).

Staff operations are called as the clinic admin of a dedicated clinic, the portal's as one of its
patients. Sign-in routes are included: the clinic's throttle counters are cleared after every
case, so generated failed sign-ins keep reaching the password check instead of a 429. Calls
that would end the shared sessions (logout) get a session of their own, and the clinic-wide MFA
switch is flipped in a second clinic, so no case changes what the next one sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from ortholens.app import create_app
from ortholens.auth.service import open_session
from ortholens.kit.db import transaction
from ortholens.models import Patient, RateLimitBucket, Role, User
from ortholens.runtime import Runtime, build_runtime
from tests.conftest import empty_database, make_settings
from tests.factories import create_clinic, create_patient, create_user

SEED = 20261204
EXAMPLES_PER_OPERATION = 12

# Paths answered for a signed-in patient; everything else under /api is staff.
PATIENT_PREFIXES = ("/api/patient/", "/api/patient-auth/me", "/api/patient-auth/logout")
SESSION_ENDING = {"/api/auth/logout", "/api/patient-auth/logout"}
CLINIC_WIDE = {"/api/clinic/settings/mfa"}


class Accounts:
    """The people the generated requests act as."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.clinic = create_clinic(runtime, "Schemathesis Dental")
        self.admin = create_user(runtime, self.clinic, Role.CLINIC_ADMIN)
        self.patient = create_patient(runtime, self.clinic)
        self.mfa_admin = create_user(
            runtime, create_clinic(runtime, "MFA switch"), Role.CLINIC_ADMIN
        )
        self.staff_header = self.bearer(staff=self.admin)
        self.patient_header = self.bearer(patient=self.patient)
        self.mfa_header = self.bearer(staff=self.mfa_admin)

    def bearer(
        self, *, staff: User | None = None, patient: Patient | None = None
    ) -> dict[str, str]:
        """A new sign-in session's bearer header."""
        with transaction(self.runtime.session_factory) as session:
            tokens = open_session(session, self.runtime.signer, user=staff, patient=patient)
        return {"Authorization": f"Bearer {tokens.access_token}"}

    def headers_for(self, path: str) -> dict[str, str]:
        """Whom a case for `path` acts as."""
        patient_side = path.startswith(PATIENT_PREFIXES)
        if path in SESSION_ENDING:
            return (
                self.bearer(patient=self.patient) if patient_side else self.bearer(staff=self.admin)
            )
        if path in CLINIC_WIDE:
            return self.mfa_header
        return self.patient_header if patient_side else self.staff_header

    def forget_sign_in_failures(self) -> None:
        """Throttle-free: drop every sign-in failure counter of the test database."""
        with transaction(self.runtime.session_factory) as session:
            session.execute(sa.delete(RateLimitBucket))


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, migrated_databases: dict[str, str]
) -> Iterator[tuple[FastAPI, Accounts]]:
    url = migrated_databases["sqlite"]
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    # iTero set up (its authorize URL is only built, never fetched), so those routes answer.
    runtime = build_runtime(
        make_settings(tmp, url, itero_client_id="schemathesis", itero_client_secret="not-used")
    )
    app = create_app(runtime)
    with TestClient(app):  # run the lifespan once, as a server would
        yield app, Accounts(runtime)
    runtime.close()
    empty_database(url)


@pytest.fixture(scope="module")
def api_schema(api: tuple[FastAPI, Accounts]) -> OpenApiSchema:
    app, _ = api
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


# Schema-valid requests the server refuses (422) for a reason no schema can state: the state of
# the record, a secret, or what a file or URL turns out to hold. Anything else refused is a
# constraint the document fails to declare.
BUSINESS_RULES: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/api/auth/password"): ("current password is not right",),
    ("POST", "/api/auth/mfa/enable"): ("code is not right",),
    ("POST", "/api/patients"): ("must name an active doctor",),
    ("GET", "/api/patients"): ("cursor is not valid",),
    ("PATCH", "/api/patients/{patient_id}"): ("must name an active doctor",),
    ("GET", "/api/patients/{patient_id}/images"): ("cursor is not valid",),
    ("GET", "/api/scans/sessions"): ("cursor is not valid",),
    ("GET", "/api/messaging/threads"): ("cursor is not valid",),
    ("GET", "/api/messaging/threads/{thread_id}"): ("cursor is not valid",),
    ("GET", "/api/patient/messages"): ("cursor is not valid",),
    ("GET", "/api/patient/messages/{thread_id}"): ("cursor is not valid",),
    ("POST", "/api/protocols"): ("Each view appears once",),
    ("POST", "/api/patient/scans/sessions"): ("no valid photography consent",),
    # The staff route takes no session; the patient's needs one (one schema serves both).
    ("POST", "/api/patient/scans/upload-url"): ("Say which scan session",),
    ("POST", "/api/patient/push/subscribe"): ("push endpoint",),
    ("POST", "/api/imaging/3d/import"): ("file",),
}


@schemathesis.check
def schema_valid_requests_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, less the refusals listed in BUSINESS_RULES."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        body = response.json() if response.status_code == 422 else {}
        reasons = BUSINESS_RULES.get((case.operation.method.upper(), case.operation.path), ())
        detail = str(body.get("detail", ""))
        if "errors" not in body and any(reason in detail for reason in reasons):
            return None
        raise


def _check_operation(operation: Any, accounts: Accounts) -> None:
    """Run the bounded examples of one operation; raise the first failing answer."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the report shows the case as sent
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        try:
            case.call_and_validate(
                headers=accounts.headers_for(case.operation.path),
                excluded_checks=[positive_data_acceptance],
                additional_checks=[schema_valid_requests_accepted],
            )
        finally:
            accounts.forget_sign_in_failures()

    run()


def test_every_operation_answers_as_documented(
    api: tuple[FastAPI, Accounts], api_schema: OpenApiSchema
) -> None:
    _, accounts = api
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50  # the whole API, not an empty document
    for operation in operations:
        try:
            _check_operation(operation, accounts)
        except (
            Exception,
            BaseExceptionGroup,
        ) as failure:  # collect every operation's finding, then fail once
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert not failures, "\n\n".join(failures)
