"""Structured logs: one JSON object per line, with the request id bound by the HTTP middleware.

Log events name what happened and carry ids only; never names, dates of birth, e-mail addresses,
file names from users, tokens or passwords. Library loggers (uvicorn, huey, alembic) are routed
through the same renderer so every line has the same shape.
"""

from __future__ import annotations

import logging
import sys
import traceback

import structlog

from ortholens.settings import LogFormat

_REDACTED = "[redacted]"
# Keys that must never reach a log line even if a caller passes them by mistake.
_SENSITIVE_KEYS = frozenset(
    {"password", "token", "access_token", "refresh_token", "authorization", "cookie", "secret"}
)


def _redact(
    _logger: object, _name: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    for key in list(event):
        if key.lower() in _SENSITIVE_KEYS:
            event[key] = _REDACTED
    return event


def _no_exception(_sio: object, _exc_info: object) -> None:
    """Console renderer hook: exceptions were already reduced to type and frames."""


def _safe_exception(
    _logger: object, _name: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """Render an exception as its type and stack frames only. Messages and local variables can hold
    patient data (a name in an IntegrityError, a file name in an OSError), so neither is logged."""
    exc_info = event.pop("exc_info", None)
    if exc_info is None or exc_info is False:
        return event
    if exc_info is True:
        exc_info = sys.exc_info()
    exc = exc_info if isinstance(exc_info, BaseException) else exc_info[1]
    if exc is None:
        return event
    frames = traceback.extract_tb(exc.__traceback__)
    event["exception"] = {
        "type": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "frames": [f"{f.filename}:{f.lineno} in {f.name}" for f in frames],
    }
    return event


def configure_logging(level: str = "INFO", fmt: LogFormat = LogFormat.JSON) -> None:
    """Configure structlog and the standard library to write structured lines to stderr."""
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
        _safe_exception,
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if fmt is LogFormat.JSON
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=_no_exception)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access log prints raw paths and query strings; our middleware logs requests instead.
    logging.getLogger("uvicorn.access").disabled = True
    # HTTP clients log full URLs (tokens, ids) at INFO; only their warnings are useful to us.
    # Alembic narrates every step at INFO; `ortholens migrate` prints its own summary.
    for name in (
        "httpx",
        "httpx2",
        "httpcore",
        "botocore",
        "boto3",
        "urllib3",
        "alembic",
        "anthropic",
    ):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "huey", "alembic"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
