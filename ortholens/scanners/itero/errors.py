"""What can go wrong talking to iTero.

    OrthoLensError
    └── IteroError (502)              iTero failed or answered something unusable; message is safe
        ├── IteroAuthError (409)      the stored connection no longer works: reconnect iTero
        └── IteroFileTooLarge (413)   a scan file is over the caller's byte limit (also PayloadTooLarge)

Messages and extras never carry tokens, patient names or vendor error descriptions (which may echo
either); at most the HTTP status and the vendor's OAuth error code.
"""

from __future__ import annotations

from ortholens.kit.errors import OrthoLensError, PayloadTooLarge


class IteroError(OrthoLensError):
    status_code = 502
    slug = "itero-error"
    title = "iTero request failed"


class IteroAuthError(IteroError):
    # 409: the request was fine, the clinic's integration is in a state only an admin can fix.
    status_code = 409
    slug = "itero-reconnect-required"
    title = "Reconnect iTero"


class IteroFileTooLarge(PayloadTooLarge, IteroError):
    status_code = 413
    slug = "itero-file-too-large"
    title = "iTero file too large"
