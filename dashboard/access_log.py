"""The access log: one line per request, as a web server keeps it.

A line holds, separated by spaces: the time in UTC (ISO 8601), the client's address, the
logged-in user's id (``-`` when nobody is logged in), the method, the path, the status and the
duration in milliseconds::

    2026-01-05T09:00:00.000Z 203.0.113.9 - GET /f/<redacted> 302 12

What could open something is never written: the rest of a personal link (``/f/...``) becomes
``<redacted>``, query strings are dropped (they can carry a job id or a search), and neither
cookies, headers nor request bodies (passwords, answers) are read. Characters outside printable
ASCII are percent-encoded, so that a crafted path cannot forge a second line.

The file rotates at ``access_log_max_bytes`` and keeps ``access_log_backups`` old files
(``klik-access.log.1`` ...). Several web processes should each get their own file (or ``-``, for
standard output, collected by the process manager): rotation is per process.
"""

from __future__ import annotations

import datetime as dt
import logging
import logging.handlers
import re
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dashboard.auth import USER_ID_ENVIRON
from study.clock import Clock

STDOUT = "-"

#: path prefixes whose remainder is a secret
SECRET_PATHS = re.compile(r"/f/.*", re.DOTALL)
METHOD = re.compile(r"^[A-Z]{1,16}$")
#: what stays unescaped in a logged path: RFC 3986 path characters without ``%``'s ambiguity
PATH_SAFE = "/:@!$&'()*+,;=-._~"


def redact_path(path: str) -> str:
    """The path as the log shows it: link tokens redacted, non-printable characters escaped."""
    path = SECRET_PATHS.sub("/f/<redacted>", path)
    return quote(path, safe=PATH_SAFE + "<>")[:500]


def _method(method: str) -> str:
    return method if METHOD.match(method) else "?"


def open_handler(target: str, *, max_bytes: int, backups: int) -> logging.Handler:
    """A handler that writes ``target``: a rotating file, or standard output for ``-``."""
    if target == STDOUT:
        handler: logging.Handler = logging.StreamHandler(sys.stdout)
    else:
        path = Path(target).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", delay=True
        )
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


class AccessLog:
    """WSGI middleware writing one line per request to ``handler``.

    Wrap it *inside* ProxyFix, so that the address it logs is the client's, not the proxy's. The
    line is written when the response has been sent (or the client went away), so the duration
    covers streamed downloads too.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], handler: logging.Handler, clock: Clock):
        self.app = app
        self.handler = handler
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        at = self.clock.now().astimezone(dt.UTC)
        status: list[str] = []

        def recording_start_response(code: str, headers: Any, exc_info: Any = None) -> Any:
            status[:] = [code.split(" ", 1)[0]]
            return start_response(code, headers, exc_info)

        try:
            body = self.app(environ, recording_start_response)
        except BaseException:
            self._write(environ, at, "500", started)
            raise
        return _Closing(
            body, lambda: self._write(environ, at, status[0] if status else "-", started)
        )

    def _write(self, environ: dict[str, Any], at: dt.datetime, status: str, started: float) -> None:
        millis = int((time.perf_counter() - started) * 1000)
        user = environ.get(USER_ID_ENVIRON)
        line = " ".join(
            (
                at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
                quote(str(environ.get("REMOTE_ADDR") or "-"), safe=":.[]")[:64],
                str(user) if isinstance(user, int) else "-",
                _method(str(environ.get("REQUEST_METHOD", ""))),
                redact_path(
                    str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
                ),
                status,
                str(millis),
            )
        )
        record = logging.LogRecord("klik.access", logging.INFO, __file__, 0, line, None, None)
        self.handler.handle(record)

    def close(self) -> None:
        """Close the file (the middleware writes nothing afterwards)."""
        self.handler.close()


class _Closing:
    """The response body, calling ``on_close`` once: when it is used up or closed, whichever is
    first (WSGI servers close; some test clients only read)."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[], None]) -> None:
        self.body = body
        self.on_close = on_close
        self._done = False

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self.on_close()

    def __iter__(self) -> Any:
        yield from self.body
        self._finish()

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()
