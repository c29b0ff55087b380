"""The review screen of one remote-monitoring check-in (issue 6).

    GET  /monitoring/sessions/{id}          photos beside the previous check-in's, the tag form
    POST /monitoring/sessions/{id}/suggest  ask the AI provider; the form comes back pre-filled
    POST /monitoring/sessions/{id}/review   submit the tag set (the session becomes REVIEWED);
                                            "submit and next" opens the next check-in
    POST /monitoring/sessions/{id}/retake   ask the patient for new photos (NEEDS_RETAKE)

imaging:view shows the screen, imaging:annotate acts on it. The review service decides tenancy,
audits every read and works out `ai_overridden` itself from the stored suggestion.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from ortholens.auth.policy import Permission, allowed, grant
from ortholens.auth.principals import Authorized
from ortholens.dashboard import worklist
from ortholens.http.deps import SessionDep, SettingsDep, StoreDep
from ortholens.image.service import GalleryItem
from ortholens.kit.errors import OrthoLensError
from ortholens.kit.storage import ObjectStore
from ortholens.messaging.schemas import MAX_MESSAGE_CHARS
from ortholens.models import AiTagSuggestion, ScanSessionStatus
from ortholens.review import flows
from ortholens.review import service as review
from ortholens.review.ai.factory import provider_for
from ortholens.review.vocabulary import DETAIL_TAGS, OralHygiene, OverallTracking
from ortholens.settings import Settings
from ortholens.web.auth import PageCsrf, RequirePagePermission
from ortholens.web.photos import view_label
from ortholens.web.routing import PageResponse, PageRoute, redirect
from ortholens.web.templating import render

router = APIRouter(include_in_schema=False, route_class=PageRoute, dependencies=[PageCsrf])

Viewer = Annotated[Authorized, RequirePagePermission(Permission.IMAGING_VIEW)]
Reviewer = Annotated[Authorized, RequirePagePermission(Permission.IMAGING_ANNOTATE)]

MAX_NOTES_CHARS = 2000  # as the API's TagSetCreate
NOTICES = {
    "suggested": "The AI suggestion is filled in below. Check every value before you submit.",
    "reviewed": "The review was saved and the patient was notified.",
    "reviewed-next": "The last review was saved and its patient notified. This is the next check-in.",
    "retake": "The patient was asked to retake their photos.",
}


def tracking_label(value: int | None) -> str:
    """1 -> "On track (GO)"; None (no opinion) -> "Not judged"."""
    return OverallTracking(value).label if value in set(OverallTracking) else "Not judged"


def hygiene_label(value: int | None) -> str:
    return OralHygiene(value).label if value in set(OralHygiene) else "Not judged"


def tag_label(code: str) -> str:
    return DETAIL_TAGS.get(code, code)


@dataclass(frozen=True)
class ViewPair:
    """One row of the comparison: this check-in's photo of a view beside the previous one's."""

    view_code: str | None
    label: str
    current: GalleryItem | None
    previous: GalleryItem | None


def pair_views(
    current: list[GalleryItem], previous: list[GalleryItem], expected: list[str]
) -> list[ViewPair]:
    """Rows in the protocol's order (then any other view), matching photos by view code."""
    by_view: dict[str | None, GalleryItem] = {}
    for item in current:
        by_view[item.image.view_code] = item  # a retake replaces: the latest photo wins
    before: dict[str | None, GalleryItem] = {}
    for item in previous:
        before[item.image.view_code] = item
    codes: list[str | None] = [code for code in expected if code in by_view or code in before]
    codes += [code for code in by_view if code not in codes]
    codes += [code for code in before if code not in codes]
    return [ViewPair(code, view_label(code), by_view.get(code), before.get(code)) for code in codes]


@dataclass(frozen=True)
class TagForm:
    """What the tag form shows: empty, the AI's suggestion, or what the doctor sent back."""

    overall_tracking: int | None = None
    oral_hygiene: int | None = None
    detail_tags: tuple[str, ...] = ()
    notes: str = ""
    ai_suggested: bool = False

    @classmethod
    def from_suggestion(cls, suggestion: AiTagSuggestion) -> TagForm:
        return cls(
            suggestion.overall_tracking,
            suggestion.oral_hygiene,
            tuple(tag for tag in suggestion.detail_tags if tag in DETAIL_TAGS),
            ai_suggested=True,
        )


def _viewer(auth: Authorized) -> Authorized:
    """The principal as a viewer: image links follow the imaging:view scope of the role."""
    scope = grant(auth.principal.role, Permission.IMAGING_VIEW)
    assert scope is not None  # every role that may annotate may view
    return Authorized(auth.principal, Permission.IMAGING_VIEW, scope)


def _review_page(
    request: Request,
    session_id: uuid.UUID,
    *,
    db: SessionDep,
    store: ObjectStore,
    settings: Settings,
    auth: Authorized,
    notice: str = "",
    error: str | None = None,
    form: TagForm | None = None,
    status_code: int = 200,
) -> Response:
    viewer = _viewer(auth)
    seconds = settings.signed_url_seconds
    view = review.get_session(db, store, viewer, session_id, url_seconds=seconds)
    previous = (
        review.get_session(db, store, viewer, view.previous_session_id, url_seconds=seconds)
        if view.previous_session_id
        else None
    )
    role = auth.principal.role
    suggestion = view.suggestion
    if form is None:
        form = TagForm.from_suggestion(suggestion) if suggestion else TagForm()
    context: dict[str, Any] = {
        "scan": view.scan,
        "patient": view.patient,
        "pairs": pair_views(
            view.images, previous.images if previous else [], list(view.scan.expected_views)
        ),
        "previous": previous,
        "tag_set": view.tag_set,
        "suggestion": suggestion,
        "form": form,
        "notice": NOTICES.get(notice),
        "error": error,
        "can_annotate": allowed(role, Permission.IMAGING_ANNOTATE),
        "can_message": allowed(role, Permission.MESSAGES_WRITE),
        "tracking": list(OverallTracking),
        "hygiene": list(OralHygiene),
        "detail_tags": DETAIL_TAGS,
        "tracking_label": tracking_label,
        "hygiene_label": hygiene_label,
        "tag_label": tag_label,
        "view_label": view_label,
        "max_notes": MAX_NOTES_CHARS,
        "max_message": MAX_MESSAGE_CHARS,
        "pending": view.scan.status is ScanSessionStatus.PENDING,
        # Once reviewed, the screen offers the next check-in of the queue.
        "next_id": worklist.next_pending(db, viewer, view.scan.id) if view.tag_set else None,
    }
    return render(request, "monitoring/review.html", context, status_code=status_code)


@router.get("/monitoring/sessions/{session_id}")
def review_screen(
    *,
    request: Request,
    session_id: uuid.UUID,
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    auth: Viewer,
    notice: str = "",
) -> Response:
    """One check-in: its photos beside the previous ones, the AI suggestion and the tag form."""
    return _review_page(
        request, session_id, db=db, store=store, settings=settings, auth=auth, notice=notice
    )


@router.post("/monitoring/sessions/{session_id}/suggest")
def suggest(
    *,
    request: Request,
    session_id: uuid.UUID,
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    auth: Reviewer,
) -> Response:
    """Ask the configured AI provider for a suggested tag set, stored for the form to show."""
    try:
        flows.ask_for_suggestion(db, store, auth, session_id, provider_for(settings))
    except OrthoLensError as failed:
        page = _review_page(
            request,
            session_id,
            db=db,
            store=store,
            settings=settings,
            auth=auth,
            error=failed.detail,
            status_code=failed.status_code,
        )
        raise PageResponse(page) from None
    return redirect(request, f"/monitoring/sessions/{session_id}?notice=suggested#review")


def _score(value: str) -> int | None:
    return int(value) if value in {"1", "2", "3"} else None


@router.post("/monitoring/sessions/{session_id}/review")
def submit_review(
    *,
    request: Request,
    session_id: uuid.UUID,
    db: SessionDep,
    store: StoreDep,
    settings: SettingsDep,
    auth: Reviewer,
    overall_tracking: Annotated[str, Form(max_length=5)] = "",
    oral_hygiene: Annotated[str, Form(max_length=5)] = "",
    detail_tags: Annotated[list[str], Form(max_length=len(DETAIL_TAGS))] = [],  # noqa: B006
    notes: Annotated[str, Form(max_length=MAX_NOTES_CHARS * 2)] = "",
    ai_suggested: Annotated[str, Form(max_length=5)] = "",
    then: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Submit the doctor's tag set: the session becomes REVIEWED and the patient is notified;
    with `then=next` the oldest other pending check-in opens next (the worklist when none)."""
    form = TagForm(
        _score(overall_tracking),
        _score(oral_hygiene),
        tuple(detail_tags),
        notes,
        ai_suggested == "1",
    )

    def again(message: str, status_code: int = 422) -> PageResponse:
        page = _review_page(
            request,
            session_id,
            db=db,
            store=store,
            settings=settings,
            auth=auth,
            error=message,
            form=form,
            status_code=status_code,
        )
        return PageResponse(page)

    if form.overall_tracking is None:
        raise again("Choose the overall tracking.")
    if form.oral_hygiene is None:
        raise again("Choose the oral hygiene.")
    if len(notes) > MAX_NOTES_CHARS:
        raise again(f"Notes can be at most {MAX_NOTES_CHARS} characters.")
    try:
        review.submit_tags(
            db,
            auth,
            session_id,
            overall_tracking=form.overall_tracking,
            oral_hygiene=form.oral_hygiene,
            detail_tags=list(form.detail_tags),
            notes=notes.strip() or None,
            ai_suggested=form.ai_suggested,
            ai_overridden=False,  # decided by the service from the stored suggestion
        )
    except OrthoLensError as refused:
        if refused.status_code == 404:
            raise
        raise again(refused.detail, refused.status_code) from None
    if then == "next":
        following = worklist.next_pending(db, _viewer(auth), session_id)
        if following is not None:
            return redirect(request, f"/monitoring/sessions/{following}?notice=reviewed-next")
        return redirect(request, "/?notice=queue-done")
    return redirect(request, f"/monitoring/sessions/{session_id}?notice=reviewed")


@router.post("/monitoring/sessions/{session_id}/retake")
def ask_for_retake(
    request: Request, session_id: uuid.UUID, db: SessionDep, auth: Reviewer
) -> Response:
    """Mark the check-in NEEDS_RETAKE: the patient is asked for a new set of photos."""
    review.change_status(db, auth, session_id, ScanSessionStatus.NEEDS_RETAKE)
    return redirect(request, f"/monitoring/sessions/{session_id}?notice=retake")
