"""Benchmark of documents: uploading and downloading a 25 MB document through a real server
process, timed, with the server process's peak memory (its peak resident set, reset before each
step through /proc/<pid>/clear_refs, less its size before the step), medians of three runs.

The server is one single-threaded process (werkzeug's, as `casework run` serves) on a fresh
database; the client streams the upload from a file and reads the download a chunk at a time (and
checks it is the same bytes), so neither end's memory is counted in the other's.

    .venv/bin/python bench/documents.py                       # SQLite
    .venv/bin/python bench/documents.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

Target: the server's memory grows by a small fraction of the document's size (the bytes stream
through in 64 KiB chunks both ways), and each direction takes a few seconds at most.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import logging
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import fresh_database
from bench._web import wait_until_serving

SERVER = """
import sys
from werkzeug.serving import make_server
from casework import create_app
app = create_app()
make_server("127.0.0.1", int(sys.argv[1]), app, threaded=False).serve_forever()
"""
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _env(database: str, instance: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"CASEWORK_DATABASE_URL": database, "CASEWORK_INSTANCE_PATH": str(instance),
                "CASEWORK_KEYRING_FILE": str(instance / "keyring.json"), "CASEWORK_SECRET_KEY": "bench",
                "CASEWORK_ENV": "development", "CASEWORK_LOG_LEVEL": "WARNING",
                "CASEWORK_AUDIT_CHECKPOINT_FILE": str(instance / "audit-checkpoints")})
    return env


def prepare(database: str, instance: Path) -> tuple[str, str]:
    """Migrate, and make an agency, a caseworker with a signed-in session and a case: (case id,
    session cookie)."""
    env = _env(database, instance)
    os.environ.update(env)
    subprocess.run([sys.executable, "-c", "from casework.cli import main; main()", "db", "upgrade"], env=env, check=True,
                   capture_output=True, cwd=Path(__file__).resolve().parent.parent)
    from casework import create_app
    from casework.auth import sessions
    from casework.db import db
    from casework.models import Agency, AgencyKind, Case, CaseKind, Role, User

    app = create_app()
    with app.app_context():
        agency = Agency(name=f"Bench agency {uuid.uuid4().hex[:6]}", kind=next(iter(AgencyKind)))
        db.session.add(agency)
        db.session.flush()
        user = User(email=f"bench-{uuid.uuid4().hex[:6]}@example.org", name="Bench user", agency_id=agency.id)
        db.session.add(user)
        db.session.flush()
        user.set_roles({Role.CASEWORKER})
        case = Case(kind=CaseKind.DOMESTIC_ABUSE, owner_agency_id=agency.id, caseworker_id=user.id)
        db.session.add(case)
        db.session.commit()
        with app.test_request_context():
            token = sessions.start(user=user, client_address="127.0.0.1")
        db.session.commit()
        cookie = app.session_interface.get_signing_serializer(app).dumps({"sid": token})  # type: ignore[attr-defined]
        case_id = str(case.id)
    app.extensions["casework.engine"].dispose()
    return case_id, f"{app.config.get('SESSION_COOKIE_NAME', 'session')}={cookie}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for process {pid}")


def _reset_peak(pid: int) -> int:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets the peak resident set (Linux 4.0+)
    return _status(pid, "VmRSS")


def _multipart(path: Path, source: Path, token: str, boundary: str) -> None:
    with path.open("wb") as out:
        def field(name: str, value: str) -> None:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        field("csrf_token", token)
        field("title", "Bench statement")
        for part, value in (("day", "3"), ("month", "2"), ("year", "2026")):
            field(f"document_date-{part}", value)
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.pdf"\r\n'
                  f"Content-Type: application/pdf\r\n\r\n".encode())
        with source.open("rb") as f:
            while block := f.read(1 << 20):
                out.write(block)
        out.write(f"\r\n--{boundary}--\r\n".encode())


def one_run(port: int, pid: int, case_id: str, cookie: str, source: Path, digest: str, work: Path) -> dict[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"Cookie": cookie}
    conn.request("GET", f"/cases/{case_id}/documents/new", headers=headers)
    got_form = conn.getresponse()
    page = got_form.read().decode()
    set_cookie = got_form.getheader("Set-Cookie")
    if set_cookie:  # the session now holds the form's CSRF secret
        headers = {"Cookie": set_cookie.split(";", 1)[0]}
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    boundary = uuid.uuid4().hex
    body = work / "body.bin"
    _multipart(body, source, token, boundary)
    before = _reset_peak(pid)
    started = time.perf_counter()
    with body.open("rb") as f:
        conn.request("POST", f"/cases/{case_id}/documents/new", body=f, headers={
            **headers, "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(body.stat().st_size)})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
    upload = time.perf_counter() - started
    upload_hwm = _status(pid, "VmHWM")
    upload_peak = upload_hwm - before
    if response.status != 302:
        raise RuntimeError(f"the upload answered {response.status}: {text[:3000]}")
    body.unlink()
    conn.request("GET", f"/cases/{case_id}", headers=headers)
    links = re.findall(r'href="(/documents/[0-9a-f-]{36})"', conn.getresponse().read().decode())
    before = _reset_peak(pid)
    started = time.perf_counter()
    conn.request("GET", links[0], headers=headers)
    response = conn.getresponse()
    got = hashlib.sha256()
    while block := response.read(1 << 20):
        got.update(block)
    download = time.perf_counter() - started
    download_hwm = _status(pid, "VmHWM")
    download_peak = download_hwm - before
    if response.status != 200 or got.hexdigest() != digest:
        raise RuntimeError(f"the download answered {response.status} or other bytes")
    conn.request("POST", f"{links[0]}/delete", body=f"csrf_token={token}&confirm=yes",
                 headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})
    conn.getresponse().read()
    conn.close()
    return {"upload_s": upload, "upload_mb": upload_peak / 1e6, "upload_hwm": upload_hwm / 1e6,
            "download_s": download, "download_mb": download_peak / 1e6, "download_hwm": download_hwm / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--size", type=int, default=25_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the audit trail's log lines would bury the figures
    with tempfile.TemporaryDirectory(prefix="casework-bench-documents-") as tmp:
        work = Path(tmp)
        with fresh_database(args.database_url, work) as database:
            instance = work / "instance"
            instance.mkdir(mode=0o700)
            case_id, cookie = prepare(database, instance)
            source = work / "document.pdf"
            with source.open("wb") as f:
                f.write(b"%PDF-1.7\n")
                left = args.size - 9
                while left > 0:
                    block = os.urandom(min(left, 1 << 20))
                    f.write(block)
                    left -= len(block)
            digest = hashlib.sha256(source.read_bytes()).hexdigest()
            port = _free_port()
            server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=_env(database, instance),
                                      cwd=Path(__file__).resolve().parent.parent)
            try:
                wait_until_serving("127.0.0.1", port)
                baseline = _status(server.pid, "VmRSS")
                runs = [one_run(port, server.pid, case_id, cookie, source, digest, work) for _ in range(args.runs)]
            finally:
                server.terminate()
                server.wait(timeout=30)
    engine = "SQLite" if database.startswith("sqlite") else "PostgreSQL"
    print(f"{engine}, a {args.size / 1e6:.0f} MB document, {args.runs} runs (server process: one, single-threaded)")
    for n, r in enumerate(runs, 1):
        print(f"  run {n}: upload {r['upload_s']:.2f} s, peak RSS {r['upload_hwm']:.0f} MB (+{r['upload_mb']:.1f}); "
              f"download {r['download_s']:.2f} s, peak RSS {r['download_hwm']:.0f} MB (+{r['download_mb']:.1f})")
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"  median: upload {med['upload_s']:.2f} s ({args.size / 1e6 / med['upload_s']:.0f} MB/s), "
          f"peak RSS {med['upload_hwm']:.0f} MB (+{med['upload_mb']:.1f}); download {med['download_s']:.2f} s "
          f"({args.size / 1e6 / med['download_s']:.0f} MB/s), peak RSS {med['download_hwm']:.0f} MB "
          f"(+{med['download_mb']:.1f})")
    print(f"  (the server's resident size before the first upload: {baseline / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
