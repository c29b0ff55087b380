"""Object keys of the scan record. Arches live in their image's folder like every image
(`{clinic}/{patient}/scan3d/{image}/...`); what has no patient yet lives under the clinic's
`pending-scans` folder. Exports are generated files (`ortholens.export.keys`)."""

from __future__ import annotations

import uuid

from ortholens.kit.storage.keys import make_key, validate_key

KIND = "scan3d"


def arch_key(
    clinic_id: uuid.UUID, patient_id: uuid.UUID, image_id: uuid.UUID, name: str, ext: str
) -> str:
    return make_key(clinic_id, patient_id, KIND, name, ext, object_id=image_id)


def pending_key(clinic_id: uuid.UUID, object_id: uuid.UUID, name: str, ext: str) -> str:
    return validate_key(f"{clinic_id}/pending-scans/{object_id}/{name}.{ext.lower()}")
