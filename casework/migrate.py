"""Alembic, driven from the app's configuration (no alembic.ini needed)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

# Installed from a wheel the migrations are inside the package (setup.py copies them there); a checkout
# keeps them at the project root.
_PACKAGED = Path(__file__).resolve().parent / "migrations"
MIGRATIONS = _PACKAGED if (_PACKAGED / "env.py").is_file() else Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if database_url:
        cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
