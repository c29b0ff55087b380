"""The one permission policy: which role may do what, and how far.

This is DOMAIN.md's table ("Roles and permissions"), read as it says: the *Special Permissions* of
seed 003 govern what the API enforces, with the role table's "limited", "edit", "with approval" and
"view" levels kept as a `Scope` on the grant. Endpoints declare the permission they need with
`RequirePermission(...)`; services that need the scope (e.g. front desk may capture photos but not
X-rays) read it from the principal's grant.
"""

from __future__ import annotations

from enum import StrEnum

from ortholens.models.enums import Role


class Permission(StrEnum):
    IMAGING_CAPTURE = "imaging:capture"
    IMAGING_VIEW = "imaging:view"
    IMAGING_ANNOTATE = "imaging:annotate"
    IMAGING_DELETE = "imaging:delete"
    IMAGING_EXPORT = "imaging:export"
    IMAGING_ADMIN = "imaging:admin"
    IMAGING_CEPHALOMETRIC = "imaging:cephalometric"
    IMAGING_3D_VIEW = "imaging:3d_view"
    REPORTS_CREATE = "reports:create"
    REPORTS_VIEW = "reports:view"
    PATIENTS_READ = "patients:read"
    PATIENTS_WRITE = "patients:write"
    PATIENTS_ARCHIVE = "patients:archive"
    PATIENTS_INVITE = "patients:invite"
    CONSENT_READ = "consent:read"
    CONSENT_WRITE = "consent:write"
    STAFF_MANAGE = "staff:manage"
    AUDIT_READ = "audit:read"
    JOBS_READ = "jobs:read"
    MESSAGES_READ = "messages:read"
    MESSAGES_WRITE = "messages:write"
    MONITORING_READ = "monitoring:read"
    ANALYTICS_READ = "analytics:read"


class Scope(StrEnum):
    """How far a grant reaches."""

    FULL = "full"
    PHOTOS_AND_DOCUMENTS = "photos_and_documents"  # front desk: no X-ray, CBCT or 3D
    PHOTOS_AND_METADATA = "photos_and_metadata"  # front desk viewing: no X-ray/CBCT/3D bytes
    METADATA_ONLY = "metadata_only"  # billing: never image bytes
    REQUEST_ONLY = "request_only"  # doctor delete: a clinic admin approves


S_ADMIN, C_ADMIN, DOCTOR, CLINICAL, FRONT, BILLING, READER = (
    Role.SUPER_ADMIN,
    Role.CLINIC_ADMIN,
    Role.DOCTOR,
    Role.CLINICAL_STAFF,
    Role.FRONT_DESK,
    Role.BILLING,
    Role.READ_ONLY,
)
F = Scope.FULL

# permission -> {role: scope}; a role absent from a row has no grant.
# fmt: off
POLICY: dict[Permission, dict[Role, Scope]] = {
    Permission.IMAGING_CAPTURE:  {S_ADMIN: F, C_ADMIN: F, DOCTOR: F, CLINICAL: F, FRONT: Scope.PHOTOS_AND_DOCUMENTS},
    Permission.IMAGING_VIEW:     {S_ADMIN: F, C_ADMIN: F, DOCTOR: F, CLINICAL: F, READER: F,
                                  FRONT: Scope.PHOTOS_AND_METADATA, BILLING: Scope.METADATA_ONLY},
    Permission.IMAGING_ANNOTATE: {S_ADMIN: F, C_ADMIN: F, DOCTOR: F, CLINICAL: F},
    Permission.IMAGING_DELETE:   {S_ADMIN: F, C_ADMIN: F, DOCTOR: Scope.REQUEST_ONLY},
    Permission.IMAGING_EXPORT:   {S_ADMIN: F, C_ADMIN: F, DOCTOR: F, CLINICAL: F},
    Permission.IMAGING_ADMIN:    {S_ADMIN: F, C_ADMIN: F},
    Permission.IMAGING_CEPHALOMETRIC: {S_ADMIN: F, C_ADMIN: F, DOCTOR: F},
    Permission.IMAGING_3D_VIEW:  {S_ADMIN: F, C_ADMIN: F, DOCTOR: F, CLINICAL: F},
    Permission.REPORTS_CREATE:   {S_ADMIN: F, C_ADMIN: F, DOCTOR: F},
    Permission.REPORTS_VIEW:     {role: F for role in Role},
    # Seed 004 onboarding and seed 003 compliance: who keeps the patient list.
    Permission.PATIENTS_READ:    {role: F for role in Role},
    Permission.PATIENTS_WRITE:   {S_ADMIN: F, C_ADMIN: F, DOCTOR: F, CLINICAL: F, FRONT: F},
    Permission.PATIENTS_ARCHIVE: {S_ADMIN: F, C_ADMIN: F, DOCTOR: F},
    Permission.PATIENTS_INVITE:  {S_ADMIN: F, C_ADMIN: F, DOCTOR: F, CLINICAL: F, FRONT: F},
    Permission.CONSENT_READ:     {S_ADMIN: F, C_ADMIN: F, DOCTOR: F, CLINICAL: F, FRONT: F, READER: F},
    Permission.CONSENT_WRITE:    {S_ADMIN: F, C_ADMIN: F, DOCTOR: F, CLINICAL: F, FRONT: F},
    Permission.STAFF_MANAGE:     {S_ADMIN: F, C_ADMIN: F},
    # "Clinic admins can browse their clinic's audit trail; no one else can" (issue 4).
    Permission.AUDIT_READ:       {C_ADMIN: F},
    Permission.JOBS_READ:        {role: F for role in Role},
    # Remote monitoring (seed 004). Reviewing a scan session is annotating it (imaging:annotate);
    # the queue and the session's photos are imaging:view. Messages are clinical correspondence:
    # the clinical team and the front desk write, read-only staff read, billing neither.
    Permission.MESSAGES_READ:    {S_ADMIN: F, C_ADMIN: F, DOCTOR: F, CLINICAL: F, FRONT: F, READER: F},
    Permission.MESSAGES_WRITE:   {S_ADMIN: F, C_ADMIN: F, DOCTOR: F, CLINICAL: F, FRONT: F},
    Permission.MONITORING_READ:  {S_ADMIN: F, C_ADMIN: F, DOCTOR: F, CLINICAL: F, FRONT: F, READER: F},
    # Tagging analytics carries the clinic's discount tier: a business figure.
    Permission.ANALYTICS_READ:   {S_ADMIN: F, C_ADMIN: F, DOCTOR: F, BILLING: F},
}
# fmt: on


def grant(role: Role, permission: Permission) -> Scope | None:
    """The scope `role` has for `permission`, or None when it has none."""
    return POLICY[permission].get(role)


def allowed(role: Role, permission: Permission) -> bool:
    return grant(role, permission) is not None


def roles_with(permission: Permission) -> set[Role]:
    return set(POLICY[permission])
