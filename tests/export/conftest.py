"""Fixtures of the generated-file tests: a clinic, its patient and the download policy."""

from __future__ import annotations

import pytest

from ortholens.export.endpoints import get_download_policy
from ortholens.export.links import DownloadPolicy
from ortholens.models import Clinic, Patient
from ortholens.runtime import Runtime
from tests.export import generated_notes  # noqa: F401  (registers the note kind and its job)
from tests.factories import create_clinic, create_patient


@pytest.fixture
def owner(runtime: Runtime) -> Clinic:
    return create_clinic(runtime)


@pytest.fixture
def patient(runtime: Runtime, owner: Clinic) -> Patient:
    return create_patient(runtime, owner)


@pytest.fixture
def policy(runtime: Runtime) -> DownloadPolicy:
    return get_download_policy(runtime)
