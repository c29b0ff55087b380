"""Staff sign-in: `/api/auth/*`."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ortholens.audit import service as audit
from ortholens.auth import mfa, service
from ortholens.auth.cookies import (
    clear_session_cookies,
    refresh_token_from,
    set_session_cookies,
)
from ortholens.auth.deps import CurrentStaff, Public, SignerDep
from ortholens.auth.policy import POLICY
from ortholens.auth.schemas import (
    LoginRequest,
    MeResponse,
    MfaCode,
    MfaSetup,
    PasswordChange,
    RefreshRequest,
    SessionTokens,
    StaffLoginResponse,
    StaffRead,
)
from ortholens.http.deps import RuntimeDep, SessionDep
from ortholens.kit.db import utcnow
from ortholens.kit.errors import Conflict, InvalidInput, NotFound
from ortholens.models import SubjectType, User

router = APIRouter(prefix="/api/auth", tags=["auth"])


def staff_read(user: User) -> StaffRead:
    return StaffRead(
        id=user.id,
        clinic_id=user.clinic_id,
        email=user.email,
        full_name=user.full_name,
        role=user.role,
        mfa_enabled=user.mfa_enabled_at is not None,
    )


def _tokens_response(
    request: Request, response: Response, tokens: service.IssuedTokens
) -> SessionTokens:
    csrf = set_session_cookies(request, response, tokens, patient=False)
    return SessionTokens(
        access_token=tokens.access_token,
        expires_at=tokens.access_expires_at,
        refresh_token=tokens.refresh_token,
        csrf_token=csrf,
    )


@router.post("/login", response_model=StaffLoginResponse, dependencies=[Public])
def login(
    *,
    body: LoginRequest,
    request: Request,
    response: Response,
    db: SessionDep,
    signer: SignerDep,
    runtime: RuntimeDep,
) -> StaffLoginResponse:
    """Sign in with e-mail, password and (when enrolled) a TOTP code."""
    user, tokens = service.sign_in_staff(
        db,
        signer,
        throttle_secret=runtime.secrets.token_signing_key,
        mfa_key=runtime.secrets.storage_encryption_key,
        email=body.email,
        password=body.password,
        totp_code=body.totp,
    )
    issued = _tokens_response(request, response, tokens)
    return StaffLoginResponse(**issued.model_dump(), user=staff_read(user))


@router.post("/refresh", response_model=SessionTokens, dependencies=[Public])
def refresh(
    request: Request,
    response: Response,
    db: SessionDep,
    signer: SignerDep,
    body: RefreshRequest | None = None,
) -> SessionTokens:
    """Exchange the refresh token (cookie or body) for new tokens; each one works once."""
    token = refresh_token_from(request, signer, body.refresh_token if body else None, patient=False)
    tokens = service.refresh(db, signer, token, subject_type=SubjectType.STAFF)
    return _tokens_response(request, response, tokens)


@router.post("/logout", status_code=204)
def logout(
    principal: CurrentStaff, request: Request, response: Response, db: SessionDep
) -> Response:
    """Sign out of this session; its tokens stop working at once."""
    service.end_session(db, principal.session_id, principal.actor)
    response.status_code = 204
    clear_session_cookies(request, response, patient=False)
    return response


@router.get("/me", response_model=MeResponse)
def me(principal: CurrentStaff, db: SessionDep) -> MeResponse:
    """Who is signed in, and what their role allows."""
    user = db.get(User, principal.user_id)
    assert user is not None
    return MeResponse(
        user=staff_read(user),
        permissions=sorted(p.value for p, roles in POLICY.items() if principal.role in roles),
        mfa_enrollment_required=principal.mfa_enrollment_required,
    )


def _user(db: SessionDep, principal: CurrentStaff) -> User:
    user = db.get(User, principal.user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


@router.post("/password", response_model=SessionTokens)
def change_password(
    *,
    body: PasswordChange,
    principal: CurrentStaff,
    request: Request,
    response: Response,
    db: SessionDep,
    signer: SignerDep,
) -> SessionTokens:
    """Change your password; every other sign-in ends and this device gets new tokens."""
    user = _user(db, principal)
    service.change_password(db, user, current=body.current_password, new=body.new_password)
    return _tokens_response(request, response, service.open_session(db, signer, user=user))


@router.post("/mfa/setup", response_model=MfaSetup)
def mfa_setup(principal: CurrentStaff, db: SessionDep, runtime: RuntimeDep) -> MfaSetup:
    """Start two-factor enrollment: a new secret to add to an authenticator app."""
    user = _user(db, principal)
    if user.mfa_enabled_at is not None:
        raise Conflict("Two-factor sign-in is already on.")
    secret = mfa.new_secret()
    user.mfa_secret = mfa.seal_secret(runtime.secrets.storage_encryption_key, user.id, secret)
    return MfaSetup(secret=secret, otpauth_uri=mfa.provisioning_uri(secret, user.email))


@router.post("/mfa/enable", status_code=204)
def mfa_enable(
    body: MfaCode, principal: CurrentStaff, db: SessionDep, runtime: RuntimeDep
) -> Response:
    """Finish enrollment by proving the app shows the right code."""
    user = _user(db, principal)
    if user.mfa_secret is None:
        raise InvalidInput("Start the set-up first.")
    secret = mfa.unseal_secret(runtime.secrets.storage_encryption_key, user.id, user.mfa_secret)
    if not mfa.code_is_valid(secret, body.code):
        raise InvalidInput("That code is not right; check the time on your phone and try again.")
    user.mfa_enabled_at = utcnow()
    audit.record(db, principal.actor, "auth.mfa_enabled", target_type="user", target_id=user.id)
    return Response(status_code=204)
