"""A small browser for the benchmarks and the scale-out test: one keep-alive connection, the
session cookie, CSRF tokens from forms, and signing in with a password and a TOTP code.

Standard library only, so a load of 50 users needs nothing installed beyond the app.
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse
from dataclasses import dataclass, field

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str
    seconds: float

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


@dataclass
class Browser:
    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0
    _conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Response:
        headers = {"Host": f"{self.host}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                conn = self._connection()
                conn.request(method, path, body=body, headers=headers)
                raw = conn.getresponse()
                text = raw.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection (a worker was recycled): reconnect once.
                self.close()
                if attempt == 2:
                    raise
            except Exception:
                self.close()  # a connection left mid-request cannot send the next one
                raise
        seconds = time.perf_counter() - started
        for name, value in raw.getheaders():
            if name.lower() == "set-cookie":
                self._take_cookie(value)
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, text, seconds)

    def _take_cookie(self, header: str) -> None:
        pair, _, attributes = header.partition(";")
        name, _, value = pair.strip().partition("=")
        if "expires=thu, 01 jan 1970" in attributes.lower() or "max-age=0" in attributes.lower():
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Response:
        return self.request("POST", path, form)

    def csrf(self, path: str) -> str:
        """A CSRF token from the form on `path` (tied to this browser's session cookie)."""
        page = self.get(path)
        match = CSRF.search(page.body)
        if match is None:
            raise RuntimeError(f"no CSRF token on {path} (status {page.status})")
        return match.group(1)

    def sign_in(self, email: str, password: str, totp_secret: str) -> None:
        """Sign in through the two steps; raises if the service does not end up on a signed-in page."""
        import pyotp

        token = self.csrf("/sign-in")
        first = self.post("/sign-in", {"csrf_token": token, "email": email, "password": password})
        if first.status != 302 or not first.location.endswith("/sign-in/code"):
            raise RuntimeError(f"password step: {first.status} {first.location}")
        token = self.csrf("/sign-in/code")
        second = self.post("/sign-in/code", {"csrf_token": token, "code": pyotp.TOTP(totp_secret).now()})
        if second.status != 302:
            raise RuntimeError(f"code step: {second.status}")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def wait_until_serving(host: str, port: int, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing served /healthz on {host}:{port} within {timeout:.0f}s")
        time.sleep(0.2)
