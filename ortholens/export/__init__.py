"""Generated files: anything OrthoLens makes for download (mesh exports today; PDF reports,
collages, MP4 videos, ZIP archives and DICOM exports next), made once, here.

A generated file is the result of a background job. This package owns everything around it:

- the job (`generator.generates`): the domain's generator returns bytes or a temporary file and
  reports progress on the `jobs` row; the wrapper stores the file, audits `{prefix}_create`;
- the key (`keys.result_key`): `{clinic}/{patient}/{kind}/{job}/file-{attempt}.{ext}`, never
  overwritten (a retry writes a new attempt's key and removes the earlier one);
- the status and the link (`service.file_status`): only the requesting clinic sees a job (another
  clinic's id is a 404 like a random one, audited as denied); each link handed out is audited;
- the download (`endpoints.py`, `GET /api/exports/{job}/download`): links point at the app, never
  at the store. The app checks the signature, audits the download under the actor the link was
  granted to, commits, and only then streams the bytes from the store, on the local store and on
  S3 alike. We chose streaming over redirecting to a presigned S3 URL because a presigned URL can
  be replayed until it expires without the app seeing it, and every download must be audited;
- expiry (`tasks.py`, `export.expire`, hourly): a file lives `ORTHOLENS_EXPORT_RETENTION_HOURS`
  after its job finished, then answers 410 Gone ("export again") and its objects are deleted;
- the CLI (`cli.py`): `ortholens export fetch JOB_ID [-o PATH]`, audited as a download.

How a new kind plugs in (say, a PDF report in `ortholens/report/`):

1. Define the kind once, in the domain's service: `REPORT = GeneratedKind(job="report.render",
   key_kind="report", audit_prefix="report", not_found="No report with this id.")`, with a
   `still_available` check if a source deleted later must stop the download.
2. In the domain's `tasks.py`, write the generator and decorate it:
   `@generates(REPORT)` over `def render(ctx: GenerationContext, *, case_id: str) -> GeneratedFile`;
   list that module in `TASK_MODULES` (`ortholens/runtime.py`).
3. In the domain's service, check what may be generated and call `request_generation(db, REPORT,
   requester, clinic_id=..., patient_id=..., args={"case_id": ...}, details={...})`.
4. In the domain's endpoints, a POST that calls (3) and a GET that returns
   `GeneratedFileRead.from_view(file_status(db, REPORT, requester, job_id, policy))` (or a subclass
   with the kind's own fields), with `DownloadPolicyDep` from `ortholens.export.endpoints`.
"""

from ortholens.export.generator import GeneratedFile, GenerationContext, generates
from ortholens.export.kinds import GeneratedKind
from ortholens.export.links import DownloadPolicy
from ortholens.export.service import (
    FileView,
    GeneratedFileGone,
    Requester,
    file_status,
    request_generation,
)

__all__ = [
    "DownloadPolicy",
    "FileView",
    "GeneratedFile",
    "GeneratedFileGone",
    "GeneratedKind",
    "GenerationContext",
    "Requester",
    "file_status",
    "generates",
    "request_generation",
]
