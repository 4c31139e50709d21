"""The version of Casework (kept apart from `casework/__init__.py` so that a service can name it
without importing the app factory, and with it every view)."""

__version__ = "0.1.0"
