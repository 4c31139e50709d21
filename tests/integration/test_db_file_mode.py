"""A SQLite database made by `casework db upgrade` with an explicit URL is owner-only (issue 20,
finding 13: it was 0644, readable by every user of the machine)."""

from __future__ import annotations

import os
import stat

import pytest

from tests.conftest import CliRunner, make_test_app


@pytest.fixture()
def open_umask():  # type: ignore[no-untyped-def]
    old = os.umask(0o022)  # the usual umask: files readable by everyone unless made otherwise
    yield
    os.umask(old)


def test_db_upgrade_with_an_explicit_url_makes_an_owner_only_file(tmp_path, open_umask):
    database = tmp_path / "elsewhere" / "explicit.db"
    database.parent.mkdir()
    app = make_test_app(f"sqlite:///{database}", tmp_path / "instance")
    try:
        result = CliRunner(app).invoke(["db", "upgrade"])
        assert result.exit_code == 0, result.output
        made = [p for p in database.parent.iterdir() if p.name.startswith("explicit.db")]
        assert database in made
        for path in made:  # the database, and its WAL and shared-memory files while they exist
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    finally:
        app.extensions["casework.engine"].dispose()


def test_an_existing_database_keeps_its_mode(tmp_path, open_umask):
    database = tmp_path / "theirs.db"
    database.touch(mode=0o640)
    database.chmod(0o640)
    app = make_test_app(f"sqlite:///{database}", tmp_path / "instance")
    app.extensions["casework.engine"].dispose()
    assert stat.S_IMODE(database.stat().st_mode) == 0o640
