"""Logs: one line per request with a request id, as JSON lines in production; never a personal value.

`init_app` installs one handler on the root logger (so the app's, the
libraries' and gunicorn's lines share a format) and wraps the WSGI app so that
every request

- gets a request id: the incoming `X-Request-ID` when it is a safe token
  (`^[A-Za-z0-9._-]{1,64}$`), otherwise a new one; it is echoed back in the
  `X-Request-ID` response header and carried by every log line written while
  the request runs;
- is logged once when it ends: method, path, status, duration and the
  signed-in user's id when there is one.

What is never logged: query strings (a search for a surname is a personal
value), form fields, headers, cookies, client addresses, and the messages of
exceptions in JSON lines (a database error quotes the values it was given; the
exception's type and stack say where it happened). Ids and paths only.

`LOG_FORMAT` is `json` or `text`; unset, it is `json` in production and
`text` (readable, one line each) elsewhere. `LOG_LEVEL` sets the level of the
`casework` loggers.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from flask import Flask, g, request

REQUEST_ID_HEADER = "X-Request-ID"
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}\Z")
_METHOD = re.compile(r"^[A-Z]{1,16}\Z")
# The structured fields a line may carry besides the basics; anything else passed as `extra` is dropped.
FIELDS = ("method", "path", "status", "duration_ms", "user_id")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("casework_request_id", default=None)
log = logging.getLogger("casework.request")


def current_request_id() -> str | None:
    """The id of the request being handled (None outside a request)."""
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and the known request fields."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or _request_id.get()
        if request_id:
            doc["request_id"] = request_id
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                doc[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            doc["exception"] = {
                "type": f"{record.exc_info[0].__module__}.{record.exc_info[0].__qualname__}",
                "stack": [f"{frame.filename}:{frame.lineno} in {frame.name}"
                          for frame in traceback.extract_tb(record.exc_info[2])],
            }
        return json.dumps(doc, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A readable line for development: time, level, logger, [request id], message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not getattr(record, "request_id", None):
            record.request_id = _request_id.get() or "-"
        return super().format(record)


class _RequestIdFilter(logging.Filter):
    """Stamps the request id on the record when it is made, for handlers that format later."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = _request_id.get()
        return True


class _DropWerkzeugAccessLines(logging.Filter):
    """The development server's request lines carry the query string and the client's address."""

    def filter(self, record: logging.LogRecord) -> bool:
        return '"%s" %s %s' not in str(record.msg)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is written (gunicorn and pytest replace it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def make_formatter(kind: str) -> logging.Formatter:
    if kind == "json":
        return JsonFormatter()
    if kind == "text":
        return TextFormatter()
    raise ValueError(f"LOG_FORMAT must be json or text, not {kind!r}")


def init_app(app: Flask) -> None:
    """Install the log handler and the per-request id and log line."""
    configure_logging(app.config)

    @app.teardown_request
    def _note_user(_exc: BaseException | None) -> None:
        # Only a user already loaded for this request: loading one here could query the database.
        user = g.get("_login_user")
        if user is not None and getattr(user, "is_authenticated", False):
            user_id = getattr(user, "id", None)
            if user_id is not None:
                request.environ["casework.user_id"] = str(user_id)

    app.wsgi_app = RequestLog(app.wsgi_app)  # type: ignore[method-assign]


def configure_logging(config: Mapping[str, Any]) -> logging.Handler:
    """Put the one Casework handler, in the configured format, on the root logger (replacing any earlier)."""
    kind = config.get("LOG_FORMAT") or ("json" if config.get("ENV") == "production" else "text")
    handler = _StderrHandler()
    handler.setFormatter(make_formatter(str(kind).lower()))
    handler.addFilter(_RequestIdFilter())
    handler._casework = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    # One app per process in production; in tests each new app replaces the last one's handler.
    for old in [h for h in root.handlers if getattr(h, "_casework", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    logging.getLogger("casework").setLevel(config.get("LOG_LEVEL") or "INFO")
    from flask.logging import default_handler

    # The app's logger is "casework": the root handler writes its lines, Flask's own would double them.
    logging.getLogger("casework").removeHandler(default_handler)
    werkzeug = logging.getLogger("werkzeug")
    if not any(isinstance(f, _DropWerkzeugAccessLines) for f in werkzeug.filters):
        werkzeug.addFilter(_DropWerkzeugAccessLines())
    return handler


class RequestLog:
    """WSGI middleware: the request id, the `X-Request-ID` header and the request's log line."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        environ["HTTP_X_REQUEST_ID"] = request_id  # the app sees the id it is logged under
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status: list[int] = []

        def _start_response(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[:] = [int(line.split(" ", 1)[0])]
            headers = [(k, v) for k, v in headers if k.lower() != REQUEST_ID_HEADER.lower()]
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(line, headers, exc_info)

        try:
            return self.wsgi_app(environ, _start_response)
        except BaseException:
            status[:] = [500]
            raise
        finally:
            self._log(environ, status[0] if status else 500, started)
            _request_id.reset(token)

    @staticmethod
    def _log(environ: dict[str, Any], status: int, started: float) -> None:
        method = environ.get("REQUEST_METHOD", "")
        method = method if _METHOD.match(method) else "OTHER"
        # The path only, re-quoted so control characters cannot forge a line; never the query string.
        raw = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1", "replace")
        path = quote(raw, safe="/:@!$&'()*+,;=-._~")
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        fields = {"method": method, "path": path, "status": status, "duration_ms": duration_ms,
                  "user_id": environ.get("casework.user_id")}
        level = logging.ERROR if status >= 500 else logging.INFO
        log.log(level, "%s %s %s %.1f ms", method, path, status, duration_ms, extra=fields)


# --- scrubbing errors (a failed job's, a failed email's) -----------------------------------------------------

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_SQL_PARTS = re.compile(r"\[(SQL|parameters):.*?\](?=\s*(\[|\(|$))", re.DOTALL)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_LONG_NUMBERS = re.compile(r"\b\d{5,}\b")


def scrub_error(exc: BaseException) -> str:
    """An exception as `Type: message` without values that could be personal.

    Quoted text, SQL statements and their parameters, email addresses and long numbers are
    replaced: a failing job's message may have come from a row it was working on.
    """
    message = str(exc).split("\n(Background on this error")[0]
    message = _SQL_PARTS.sub("[SQL removed]", message)
    message = _QUOTED.sub("'…'", message)
    message = _EMAIL.sub("…@…", message)
    message = _LONG_NUMBERS.sub("…", message)
    message = " ".join(message.split())[:400]
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    origin = f" (in {os.path.basename(where.filename)}, line {where.lineno})" if where else ""
    return f"{type(exc).__name__}: {message}{origin}" if message else f"{type(exc).__name__}{origin}"
