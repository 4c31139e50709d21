"""Packaging steps setup.cfg cannot state: a wheel carries the built front-end and the migrations.

`pip install .`, `pip wheel .` and `python -m build` all run `build_py`, which
- builds the front-end assets git ignores when they are missing: GOV.UK Frontend's script copied from
  node_modules into casework/static/govuk/, and casework/styles/main.scss compiled by the `sass` npm
  package into casework/static/build/main.css (what `make install` does). node_modules is installed with
  `npm ci` when absent; without npm the build stops, saying what to install;
- copies the project's `migrations/` folder into the package as `casework/migrations`, where
  casework/migrate.py looks first (a checkout keeps it at the project root).
`sdist` builds the assets first too, so a source archive carries them and builds without npm.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
STATIC = ROOT / "casework" / "static"
GOVUK_JS = STATIC / "govuk" / "govuk-frontend.min.js"
MAIN_CSS = STATIC / "build" / "main.css"
NODE_MODULES = ROOT / "node_modules"
MIGRATIONS = ROOT / "migrations"


class AssetsError(SystemExit):
    pass


def _run(command: list[str]) -> None:
    print("casework assets:", " ".join(command))
    subprocess.run(command, cwd=ROOT, check=True)


def build_assets() -> None:
    """Build whichever of the two generated assets is missing (both are kept when present)."""
    if GOVUK_JS.is_file() and MAIN_CSS.is_file():
        return
    if not (NODE_MODULES / "govuk-frontend").is_dir() or not (NODE_MODULES / ".bin" / "sass").exists():
        if shutil.which("npm") is None:
            raise AssetsError(
                "Casework's styles are built from the npm packages in package.json (GOV.UK Frontend and sass), "
                "but npm is not installed. Install Node.js with npm (e.g. `apt-get install npm`), or run "
                "`make install` on a machine that has it, then build again."
            )
        _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"])
    if not GOVUK_JS.is_file():
        GOVUK_JS.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE_MODULES / "govuk-frontend" / "dist" / "govuk" / "govuk-frontend.min.js", GOVUK_JS)
    if not MAIN_CSS.is_file():
        MAIN_CSS.parent.mkdir(parents=True, exist_ok=True)
        _run([str(NODE_MODULES / ".bin" / "sass"), "--no-source-map", "--style=compressed", "--quiet-deps",
              f"--load-path={NODE_MODULES}", "casework/styles/main.scss", str(MAIN_CSS)])


class BuildPy(build_py):
    def run(self) -> None:
        build_assets()
        super().run()
        if not self.dry_run and MIGRATIONS.is_dir():
            target = Path(self.build_lib) / "casework" / "migrations"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(MIGRATIONS, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:  # type: ignore[override]
        outputs = list(super().get_outputs(include_bytecode))
        target = Path(self.build_lib) / "casework" / "migrations"
        if target.is_dir():
            outputs += [str(path) for path in target.rglob("*") if path.is_file()]
        return outputs


class Sdist(sdist):
    def run(self) -> None:
        build_assets()
        super().run()


setup(cmdclass={"build_py": BuildPy, "sdist": Sdist})
