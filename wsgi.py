"""The WSGI entry point: `gunicorn wsgi:app`."""

import gc

from casework import create_app
from casework.db import checkpoint_after_responses

app = create_app()
# On SQLite, the WAL is checkpointed after responses rather than inside a request's commit.
checkpoint_after_responses(app)

# What starting made (modules, mappers, the app's configuration) lives as long as the worker: it is
# moved out of the garbage collector's generations, so a full collection during a request looks only
# at what requests made. At the 1M demo this takes the p95 of a community ASB threshold (1,428
# complaints) from 78 ms to 22 ms; its median, 22 ms, is unchanged (bench/asb_review.py, which does
# the same after starting).
gc.freeze()
