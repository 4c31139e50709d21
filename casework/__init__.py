"""Casework: multi-agency case coordination for a Community Safety Partnership."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

from . import config, crypto, figures, observability
from .db import db, sqlite_begin
from .version import __version__ as __version__

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(config.default_instance_path()), instance_relative_config=True)
    config.load(app, test_config)
    observability.init_app(app)
    _init_keyring(app)
    db.init_app(app)
    # The stored figures' upkeep (every CLI command and the scheduler come through here too); under
    # test an unannounced write of what they are made from raises.
    figures.install(strict=bool(app.testing))
    _init_transactions(app)
    _init_templates(app)
    _init_security(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    return app


def _init_keyring(app: Flask) -> None:
    path = app.config["KEYRING_FILE"]
    if app.config["ENV"] == "production":
        ring = crypto.Keyring.load(path)
    else:
        ring = crypto.Keyring.load_or_create(path)
    app.extensions["casework.keyring"] = ring


def _init_transactions(app: Flask) -> None:
    """One commit per request, after a 2xx/3xx response; anything else rolls back."""

    @app.before_request
    def _begin_mode() -> None:
        # Read-only requests begin DEFERRED on SQLite so they never queue behind writers.
        request.environ["casework.begin_token"] = sqlite_begin.set(
            "DEFERRED" if request.method in SAFE_METHODS else "IMMEDIATE"
        )

    @app.teardown_request
    def _reset_begin_mode(_exc: BaseException | None) -> None:
        token = request.environ.pop("casework.begin_token", None)
        if token is not None:
            sqlite_begin.reset(token)

    @app.after_request
    def _finish(response: Response) -> Response:
        from flask import g

        session = g.get("_casework_session")
        if session is not None:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        return response


def _init_templates(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader([
        PackageLoader("casework"),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    from . import words

    app.jinja_env.filters.update(words.FILTERS)  # times in London, one percentage format


def _init_security(app: Flask) -> None:
    """Who is asking, default deny, CSRF, throttling and security headers: see casework.auth."""
    from . import auth

    auth.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from .views import about, account, admin, audit, auth, health, home

    app.register_blueprint(health.bp)
    app.register_blueprint(about.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(audit.bp)
    from .views import measures  # the measures dashboard (issue 6)

    app.register_blueprint(measures.bp)
    _register_operations(app)
    from .views import incidents, people  # people and incidents (issue 4)

    app.register_blueprint(people.bp)
    app.register_blueprint(incidents.bp)
    from .views import assessments, cases, referrals  # cases, DASH checklists, referrals (issue 4)

    app.register_blueprint(cases.bp)
    app.register_blueprint(assessments.bp)
    app.register_blueprint(referrals.bp)
    from .views import restricted  # restricted people and cases (issue 3)

    app.register_blueprint(restricted.bp)
    from .views import hrda, meetings  # HRDA meetings (issue 5)

    app.register_blueprint(hrda.bp)
    app.register_blueprint(meetings.bp)
    from .views import chronology  # a person's and a case's chronology (issue 14)

    app.register_blueprint(chronology.bp)
    from .views import team, worklists  # work lists and the manager's team page (issue 14)

    app.register_blueprint(worklists.bp)
    app.register_blueprint(team.bp)
    from .views import share_requests  # asking another agency to share a record (issue 14)

    app.register_blueprint(share_requests.bp)
    from .views import documents  # documents kept with a record (issue 16)

    app.register_blueprint(documents.bp)

    from .views import local_problems, plan  # the plan's delivery and local problem-solving (issue 18)

    app.register_blueprint(plan.bp)
    app.register_blueprint(local_problems.bp)

    from .views import printing  # printable forms, PDF and ODT (issue 16)

    app.register_blueprint(printing.bp)

    from .views import order_measures, orders  # orders and powers, and their figures (issue 17 §2)

    app.register_blueprint(orders.bp)
    app.register_blueprint(order_measures.bp)

    from .views import asb_reviews  # ASB case reviews (issue 17)

    app.register_blueprint(asb_reviews.bp)

    from .views import dardr, equality, marac_return  # reviews after a death, the MARAC return (issue 18)

    app.register_blueprint(dardr.bp)
    app.register_blueprint(marac_return.bp)
    app.register_blueprint(equality.bp)

    from .views import board_pack  # the partnership board's pack (issue 18 §5)

    app.register_blueprint(board_pack.bp)


def _register_operations(app: Flask) -> None:
    """The scheduled jobs' admin page and home-page reminders (the scheduler itself is a CLI process)."""
    from .views import jobs, reminders

    app.register_blueprint(jobs.bp)
    app.register_blueprint(reminders.bp)


def _register_error_handlers(app: Flask) -> None:
    from .views.shared import errors

    errors.register(app)
