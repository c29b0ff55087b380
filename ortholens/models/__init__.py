"""SQLAlchemy models, one file per model. Importing this package registers every table on
`Base.metadata` (Alembic's autogenerate and the migration check rely on that)."""

from ortholens.kit.db import Base
from ortholens.kit.jobs.record import Job, JobStatus
from ortholens.models.clinic import Clinic
from ortholens.models.enums import PatientStatus, Role
from ortholens.models.patient import Patient
from ortholens.models.user import User

__all__ = ["Base", "Clinic", "Job", "JobStatus", "Patient", "PatientStatus", "Role", "User"]
