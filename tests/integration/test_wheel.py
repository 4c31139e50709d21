"""The package as an operator installs it: the wheel built from a copy of the checkout (its generated
front-end assets removed, so the build makes them), installed with pip into a fresh virtual environment
outside the checkout, with no index (no internet). Its own `casework db upgrade` migrates a new SQLite
database and its gunicorn serves a styled page: the stylesheet with GOV.UK Frontend's classes and the
scripts it loads. (There are no font files to serve: the brand uses the system's fonts, no @font-face.)

The dependencies are not installed again: a .pth file puts the development environment's site-packages
after the new environment's own, without running its .pth files, so the editable `casework` stays out
and the installed one is what runs (checked). SQLite only: nothing here depends on the database.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import urllib.request
from pathlib import Path

import pytest

from bench._web import wait_until_serving
from casework.migrate import head_revision

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _run(args: list[str], **kwargs) -> str:  # type: ignore[no-untyped-def]
    done = subprocess.run(args, check=False, capture_output=True, text=True, timeout=120, **kwargs)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _source_copy(target: Path) -> None:
    """The files git tracks that a build reads, without the generated assets; node_modules linked."""
    generated = {ROOT / "casework" / "static" / "govuk", ROOT / "casework" / "static" / "build"}

    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n == "__pycache__" or n.endswith(".pyc") or Path(folder) / n in generated}

    shutil.copytree(ROOT / "casework", target / "casework", ignore=ignore)
    shutil.copytree(ROOT / "migrations", target / "migrations", ignore=ignore)
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "README.md", "package.json",
                 "package-lock.json"):
        shutil.copy2(ROOT / name, target / name)
    if not (ROOT / "node_modules" / "govuk-frontend").is_dir():
        pytest.fail("node_modules is missing: `make install` (npm ci) installs the front-end packages")
    (target / "node_modules").symlink_to((ROOT / "node_modules").resolve())


def _get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read().decode()


def test_the_built_wheel_installs_migrates_and_serves_a_styled_page(db_kind, tmp_path):
    if db_kind != "sqlite":
        pytest.skip("the package is the same whatever the database; this runs with the SQLite suite")
    source, outside = tmp_path / "source", tmp_path / "outside"
    source.mkdir()
    outside.mkdir()
    _source_copy(source)
    assert not (source / "casework" / "static" / "build").exists(), "the build makes the stylesheet"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CASEWORK_", "PIP_NO"))}

    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
          "-w", str(tmp_path / "dist"), str(source)], cwd=outside, env=env)
    (wheel,) = (tmp_path / "dist").glob("casework-*.whl")

    venv = outside / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env=env)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
          "--no-compile", "--quiet", str(wheel)], cwd=outside, env=env)
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    (site / "zz_development_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    installed = _run([str(python), "-c", "import casework; print(casework.__file__)"], cwd=outside, env=env)
    assert Path(installed.strip()).is_relative_to(site), installed
    assert (site / "casework" / "migrations" / "env.py").is_file()

    env |= {"CASEWORK_DATABASE_URL": f"sqlite:///{outside / 'new.db'}", "CASEWORK_INSTANCE_PATH": str(outside / "i"),
            "CASEWORK_LOG_FORMAT": "text", "WEB_CONCURRENCY": "1"}
    _run([str(venv / "bin" / "casework"), "db", "upgrade"], cwd=outside, env=env)
    with sqlite3.connect(outside / "new.db") as connection:
        (migrated,) = connection.execute("select version_num from alembic_version").fetchone()
    assert migrated == head_revision(), "the new database is at the code's head"

    port = _free_port()
    with (outside / "server.log").open("w") as log:
        server = subprocess.Popen([str(python), "-m", "gunicorn", "--bind", f"{HOST}:{port}", "casework:create_app()"],
                                  cwd=outside, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(HOST, port, timeout=60)
            base = f"http://{HOST}:{port}"
            status, _, page = _get(f"{base}/sign-in")
            assert status == 200 and "govuk-" in page
            stylesheets = re.findall(r'<link rel="stylesheet"[^>]*href="([^"]+)"', page)
            scripts = re.findall(r'<script[^>]*src="([^"]+)"', page)
            assert "/static/build/main.css" in stylesheets and "/static/js/init.mjs" in scripts

            for path in stylesheets:
                status, kind, css = _get(base + path)
                assert status == 200 and kind.startswith("text/css") and css, path
            _, _, main_css = _get(f"{base}/static/build/main.css")
            for cls in (".govuk-button", ".govuk-generic-header", ".govuk-summary-list", ".govuk-error-summary"):
                assert cls in main_css, f"{cls} is not in the built stylesheet"
            assert "@font-face" not in main_css, "no font of GOV.UK's (GDS Transport) is served"
            for url in re.findall(r'url\(["\']?([^"\')]+)', main_css):
                if not url.startswith("data:"):
                    assert _get(base + url)[0] == 200, url

            _, _, init = _get(base + "/static/js/init.mjs")
            (imported,) = re.findall(r'from "([^"]+)"', init)
            status, kind, frontend = _get(base + imported)
            assert status == 200 and "javascript" in kind and "initAll" in frontend
        finally:
            server.terminate()
            server.wait(timeout=30)
