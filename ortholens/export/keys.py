"""Object keys of generated files: `{clinic}/{patient}/{kind}/{job}/file-{attempt}.{ext}`.

The uuid segment is the generating job's id, so everything one job ever stored sits in one folder
(clean-up deletes the folder); the attempt number keeps a retry from writing over what an earlier
attempt of the same job left, because objects are never overwritten. The download's file name is
not in the key (a name may carry PHI); it travels in the job's result and the Content-Disposition.
A file that belongs to no one patient (a practice-wide archive) uses `clinic-wide` for the patient.
"""

from __future__ import annotations

import re
import uuid

from ortholens.kit.storage.keys import make_key, validate_key

CLINIC_WIDE = "clinic-wide"
FALLBACK_EXTENSION = "bin"
_EXTENSION = re.compile(r"[a-z0-9]{1,16}")


def extension_of(filename: str) -> str:
    """The file name's extension, lower-case, if it is a plain one; else `bin`."""
    _, dot, ext = filename.rpartition(".")
    ext = ext.lower()
    return ext if dot and _EXTENSION.fullmatch(ext) else FALLBACK_EXTENSION


def result_key(
    clinic_id: uuid.UUID,
    patient_id: uuid.UUID | None,
    kind: str,
    job_id: uuid.UUID,
    *,
    filename: str,
    attempt: int,
) -> str:
    """Where attempt `attempt` of job `job_id` stores its file named `filename`."""
    variant, ext = f"file-{attempt}", extension_of(filename)
    if patient_id is None:
        return validate_key(f"{clinic_id}/{CLINIC_WIDE}/{kind}/{job_id}/{variant}.{ext}")
    return make_key(clinic_id, patient_id, kind, variant, ext, object_id=job_id)


def result_folder(key: str) -> str:
    """The folder (with its trailing `/`) of a result key: every attempt of its job is in it."""
    return key.rsplit("/", 1)[0] + "/"
