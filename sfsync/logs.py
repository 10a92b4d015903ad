"""structlog set-up: readable on a terminal, JSON elsewhere, secrets scrubbed."""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

__all__ = ["bind_run", "configure_logging", "get_logger", "scrub"]

# Keys whose values are secrets whatever they hold.
_SECRET_KEYS = re.compile(
    r"(pass(word)?|secret|token|session_?id|authorization|private_?key|assertion|"
    r"api_?key|cookie)",
    re.IGNORECASE,
)
# Values that look like secrets wherever they appear: bearer headers, OAuth
# form fields in URLs or bodies, Salesforce session ids (00D org id + '!').
_SECRET_VALUES = [
    re.compile(r"(Bearer\s+)[^\s'\"]+", re.IGNORECASE),
    re.compile(
        r"((?:access_token|refresh_token|password|client_secret|assertion|sid)=)"
        r"[^&\s'\"]+",
        re.IGNORECASE,
    ),
    re.compile(r"\b00D[0-9A-Za-z]{12,15}![0-9A-Za-z._\-]{8,}"),
]
MASK = "**********"


def scrub(text: str) -> str:
    """Replace anything in ``text`` that looks like a credential."""
    for pattern in _SECRET_VALUES:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + MASK, text)
        else:
            text = pattern.sub(MASK, text)
    return text


def _scrub_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if _SECRET_KEYS.search(key) and value not in (None, ""):
            event_dict[key] = MASK
        elif isinstance(value, str):
            event_dict[key] = scrub(value)
        elif isinstance(value, BaseException):
            event_dict[key] = scrub(f"{type(value).__name__}: {value}")
    return event_dict


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    return structlog.PrintLogger(file=sys.stderr)


def configure_logging(*, fmt: str = "auto", level: str = "INFO") -> None:
    """Configure structlog and the stdlib root logger once per process."""
    json_output = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        numeric_level = logging.INFO
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _scrub_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        # Looked up at each logger's creation, not once: a test runner or a
        # daemon may swap sys.stderr after logging was configured.
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    # Libraries that log through the stdlib (apscheduler, alembic) stay quiet
    # below WARNING so that their lines do not drown the run's own.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)


@contextmanager
def bind_run(job: str, run_id: str | None = None) -> Iterator[str]:
    """Bind a run id (and the job name) to every log line inside the block."""
    run_id = run_id or uuid.uuid4().hex[:12]
    with structlog.contextvars.bound_contextvars(run_id=run_id, job=job):
        yield run_id
