"""Production configuration for `gunicorn wsgi:app` (gunicorn reads ./gunicorn.conf.py by itself).

Run it from the project directory (or pass `-c /path/to/gunicorn.conf.py`) with
the app's settings in the environment (CASEWORK_ENV=production,
CASEWORK_DATABASE_URL, CASEWORK_SECRET_KEY, CASEWORK_KEYRING_FILE, ...). Every
setting below can be overridden on the command line.

Behind a reverse proxy (nginx, a load balancer) that terminates TLS:

- gunicorn listens on 127.0.0.1 only; the proxy forwards to it.
- The app trusts X-Forwarded-For/-Proto/-Host from exactly CASEWORK_PROXY_COUNT
  proxies (Werkzeug's ProxyFix, in casework.auth); set it to the number of
  proxies in front (1 for one nginx). Leave it 0 when nothing is in front.
- gunicorn's own `forwarded_allow_ips` (below) says which peers' X-Forwarded-Proto
  it believes for wsgi.url_scheme. The default, 127.0.0.1, fits a proxy on the
  same host; give the proxy's address when it runs elsewhere. Never "*" unless
  the port is reachable only through the proxy: anyone who can reach gunicorn
  directly could then claim to be on HTTPS.

Logs: the app writes one JSON line per request itself (with a request id, and
without query strings, which may hold search terms), so gunicorn's access log
is off. gunicorn's own messages (start, workers, timeouts) go to stderr as
JSON lines too, so one collector reads both.
"""

from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# WEB_CONCURRENCY is the usual variable (and gunicorn's own); the default suits a small dedicated host.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"

# A request that runs longer than this is stuck: its worker is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# On restart or SIGTERM, requests in flight get this long to finish before the worker is killed.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5  # seconds; the proxy keeps connections to us open

# Replace each worker after a while, so a slow leak cannot grow without bound. Not too often: a new
# worker starts the app again and warms its caches (compiled statements and templates), which costs
# a second or two of CPU and slows the requests that meet it; a load balancer's health checks alone
# count towards the limit (at 2,000 a busy worker was replaced every 20 seconds).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10

# Each worker builds its own app: the database engine and its pool are never shared across a fork.
preload_app = False

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Requests are logged by the app (casework.observability); gunicorn's access line would add the query string.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "casework.observability.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False},
        # With a logging config gunicorn would write access lines anyway: they go nowhere.
        "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
    # Each worker's app puts its own JSON handler on the root logger (casework.observability).
    "root": {"handlers": [], "level": "WARNING"},
}

# gunicorn's control socket (for `gunicornc`: worker counts, reloads, shutdown) defaults to one path per
# user ($XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl), so a second instance run by the same
# user takes over the first one's. It is off unless GUNICORN_CONTROL_SOCKET names a path of this
# instance's own (for example /run/casework-web/gunicorn.ctl): systemd's signals manage the service.
control_socket_path = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
control_socket_disable = not control_socket_path
if control_socket_path:
    control_socket = control_socket_path
control_socket_mode = 0o600

# Header and request-line limits: no page of ours needs more.
limit_request_line = 8190
limit_request_fields = 100
