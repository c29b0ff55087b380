"""405 answers whose `Allow` lists every method of the path.

FastAPI makes one route per method, and Starlette answers a wrong method from the first route whose
path matched, so `Allow` named only that route's method (`GET` for `/api/images/{id}`, which also
takes `DELETE`). Here the whole route table is asked which methods the path takes.
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path

from ortholens.http.problems import problem_response

MethodTable = list[tuple[re.Pattern[str], frozenset[str]]]


def _method_table(app: FastAPI) -> MethodTable:
    # Built once per app, on the first 405: every route's full path (router prefixes included).
    table: MethodTable | None = getattr(app.state, "allow_method_table", None)
    if table is None:
        table = [
            (compile_path(route.path)[0], frozenset(route.methods))
            for route in iter_route_contexts(app.router.routes)
            if route.path and route.methods
        ]
        app.state.allow_method_table = table
    return table


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route of the app accepts at the request's path, sorted."""
    path = request.url.path
    methods: set[str] = set()
    for pattern, route_methods in _method_table(app):
        if pattern.match(path):
            methods |= route_methods
    return sorted(methods)


async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    app = request.app
    assert isinstance(app, FastAPI)
    methods = allowed_methods(app, request)
    return problem_response(
        request,
        status=405,
        slug="method-not-allowed",
        title="Method not allowed",
        detail=f"This address takes {', '.join(methods)}.",
        headers={"Allow": ", ".join(methods)},
    )


def install_allow_header(app: FastAPI) -> None:
    """Answer every 405 with the full `Allow` list (a status handler wins over the class's)."""
    app.add_exception_handler(405, _method_not_allowed)
