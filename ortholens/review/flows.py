"""Review work that spans more than one transaction, run by the owner of the request's session.

Services never commit; a flow may, through `kit.db.outside_transaction`, because the API endpoint
and the page that call it hand over the request's session for exactly this.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from ortholens.auth.principals import Authorized
from ortholens.kit.db import outside_transaction
from ortholens.kit.storage import ObjectStore
from ortholens.models import AiTagSuggestion
from ortholens.review import service
from ortholens.review.ai.base import SuggestionProvider


def ask_for_suggestion(
    db: Session,
    store: ObjectStore,
    auth: Authorized,
    scan_id: uuid.UUID,
    provider: SuggestionProvider,
) -> AiTagSuggestion:
    """Load the session's photos, ask the provider, store its (clamped) suggestion.

    The provider may take many seconds, so it is asked outside any transaction: no lock is held
    meanwhile (on SQLite a writing transaction holds the write lock). If the provider fails, only the
    audited read has been committed.
    """
    request = service.prepare_suggestion(db, store, auth, scan_id)
    with outside_transaction(db):
        suggestion = provider.suggest(request.images)
    return service.save_suggestion(db, auth, request, suggestion)
