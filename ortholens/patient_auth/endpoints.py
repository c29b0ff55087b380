"""Patient portal sign-in: `/api/patient-auth/*` (seed 004 section 1)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from ortholens.auth.cookies import (
    clear_session_cookies,
    refresh_token_from,
    set_session_cookies,
)
from ortholens.auth.deps import CurrentPatient, Public, SignerDep
from ortholens.auth.schemas import RefreshRequest, SessionTokens
from ortholens.auth.service import IssuedTokens
from ortholens.http.deps import RuntimeDep, SessionDep
from ortholens.models import Patient
from ortholens.patient_auth import service
from ortholens.patient_auth.schemas import (
    InviteValidation,
    PatientLoginRequest,
    PatientProfile,
    PatientSession,
    RegisterRequest,
)

router = APIRouter(prefix="/api/patient-auth", tags=["patient-auth"])


def _tokens(request: Request, response: Response, tokens: IssuedTokens) -> SessionTokens:
    csrf = set_session_cookies(request, response, tokens, patient=True)
    return SessionTokens(
        access_token=tokens.access_token,
        expires_at=tokens.access_expires_at,
        refresh_token=tokens.refresh_token,
        csrf_token=csrf,
    )


def _session(
    request: Request, response: Response, patient: Patient, tokens: IssuedTokens
) -> PatientSession:
    issued = _tokens(request, response, tokens)
    return PatientSession(**issued.model_dump(), patient=PatientProfile.model_validate(patient))


@router.get("/validate-invite/{token}", response_model=InviteValidation, dependencies=[Public])
def validate_invite(
    token: Annotated[str, Path(max_length=128)], db: SessionDep
) -> InviteValidation:
    """Whether an invitation link can be used; `valid: false` comes with the reason."""
    check = service.check_invite(db, token)
    return InviteValidation(
        valid=check.valid,
        patient_name=check.patient_first_name,
        email=check.email,
        reason=check.reason,
    )


@router.post("/register", response_model=PatientSession, dependencies=[Public])
def register(
    body: RegisterRequest, request: Request, response: Response, db: SessionDep, signer: SignerDep
) -> PatientSession:
    """Create your portal account from an invitation and sign in (the link works once)."""
    patient, tokens = service.register(
        db, signer, token=body.token, email=body.email, password=body.password
    )
    return _session(request, response, patient, tokens)


@router.post("/login", response_model=PatientSession, dependencies=[Public])
def login(
    *,
    body: PatientLoginRequest,
    request: Request,
    response: Response,
    db: SessionDep,
    signer: SignerDep,
    runtime: RuntimeDep,
) -> PatientSession:
    """Sign in to the patient portal with e-mail and password."""
    patient, tokens = service.sign_in_patient(
        db,
        signer,
        throttle_secret=runtime.secrets.token_signing_key,
        email=body.email,
        password=body.password,
    )
    return _session(request, response, patient, tokens)


@router.post("/refresh", response_model=SessionTokens, dependencies=[Public])
def refresh(
    request: Request,
    response: Response,
    db: SessionDep,
    signer: SignerDep,
    body: RefreshRequest | None = None,
) -> SessionTokens:
    """Exchange the refresh token (cookie or body) for new tokens; each one works once."""
    token = refresh_token_from(request, signer, body.refresh_token if body else None, patient=True)
    return _tokens(request, response, service.refresh_patient(db, signer, token))


@router.post("/logout", status_code=204)
def logout(
    principal: CurrentPatient, request: Request, response: Response, db: SessionDep
) -> Response:
    """Sign out of this session; its tokens stop working at once."""
    service.sign_out(db, principal)
    response.status_code = 204
    clear_session_cookies(request, response, patient=True)
    return response


@router.get("/me", response_model=PatientProfile)
def me(principal: CurrentPatient, db: SessionDep) -> PatientProfile:
    """Your own profile."""
    return PatientProfile.model_validate(service.own_profile(db, principal))
