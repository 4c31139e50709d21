"""gunicorn.conf.py: gunicorn's control socket is off unless an instance is given a path of its own
(issue 20, finding 13: at its shared default path a second instance took over the first one's)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from gunicorn.config import Config

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Config:
    """The settings gunicorn takes from the file (as its loader does: every name it knows)."""
    monkeypatch.delenv("GUNICORN_CONTROL_SOCKET", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cfg = Config()
    for name, value in runpy.run_path(str(CONF)).items():
        if name in cfg.settings:
            cfg.set(name, value)
    return cfg


def test_the_control_socket_is_off_by_default(monkeypatch):
    cfg = _settings(monkeypatch)
    assert cfg.control_socket_disable is True


def test_an_instance_given_a_path_has_its_own_owner_only_control_socket(monkeypatch, tmp_path):
    path = str(tmp_path / "web-a.ctl")
    cfg = _settings(monkeypatch, GUNICORN_CONTROL_SOCKET=path)
    assert cfg.control_socket_disable is False
    assert cfg.control_socket == path and cfg.control_socket_mode == 0o600
