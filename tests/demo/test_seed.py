"""The demo clinic: every role, a few patients, fresh passwords on every seeding."""

from __future__ import annotations

from sqlalchemy import func, select

from ortholens.demo.seed import seed_demo
from ortholens.kit.db import transaction
from ortholens.kit.passwords import verify_password
from ortholens.models import Clinic, Patient, Role, User
from ortholens.runtime import Runtime


def test_seed_creates_every_role_and_patients_and_can_run_again(runtime: Runtime) -> None:
    with transaction(runtime.session_factory) as session:
        first = seed_demo(session)
    with transaction(runtime.session_factory) as session:
        second = seed_demo(session)
    assert {login.role for login in first} == set(Role)
    with runtime.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Clinic)) == 1
        assert session.scalar(select(func.count()).select_from(User)) == len(Role)
        assert session.scalar(select(func.count()).select_from(Patient)) == 5
        for old, new in zip(first, second, strict=True):
            user = session.scalar(select(User).where(User.email == new.email))
            assert user is not None
            assert old.password != new.password
            assert verify_password(user.password_hash, new.password)
            assert not verify_password(user.password_hash, old.password)
            assert user.token_version == 1
