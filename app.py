"""Parta's web application: ``create_app()`` builds it, ``python app.py`` serves it.

This entry point is the only module that knows about eventlet: when the async
mode is ``eventlet`` (the default) it patches the standard library before anything
else is imported. Everything else in Parta is written against plain Flask and
Flask-SocketIO, so the async mode stays a setting.
"""
import os

if __name__ == "__main__" and os.environ.get("ASYNC_MODE", "eventlet") == "eventlet":
    import warnings

    # Known and chosen (see README): eventlet is in bugfix mode upstream, kept behind
    # ASYNC_MODE so that a move to another async mode touches this file only.
    warnings.filterwarnings("ignore", message="\nEventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
    from psycogreen.eventlet import patch_psycopg

    patch_psycopg()

import logging
import secrets
from pathlib import Path

from flask import Flask, render_template, request
from flask_babel import gettext as _
from werkzeug.middleware.proxy_fix import ProxyFix
from whitenoise import WhiteNoise

# Socket.IO handlers must be registered before socketio.init_app() runs, so that each
# application built (tests build many) gets them.
import blueprints.chats.events  # noqa: F401
import blueprints.home.events  # noqa: F401
import blueprints.lessons.events  # noqa: F401
from blueprints import extensions
from blueprints.articles import routes as articles_routes
from blueprints.appeals import routes as appeals_routes
from blueprints.auth import routes as auth_routes
from blueprints.chats import routes as chats_routes
from blueprints.documents import routes as documents_routes
from blueprints.help import routes as help_routes
from blueprints.home import routes as home_routes
from blueprints.lessons import routes as lessons_routes
from blueprints.notifications import routes as notifications_routes
from blueprints.operator import routes as operator_routes
from blueprints.schools import routes as schools_routes
from blueprints.extensions import babel, compress, csrf, htmx, limiter, login_manager, socketio
from db import bind_database, migrate

ROOT = Path(__file__).resolve().parent
ONE_YEAR = 365 * 24 * 3600

log = logging.getLogger("parta")


def _bool(value, default=False):
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def settings_from_env(env):
    """Every setting Parta reads from its environment, with its default (see README)."""
    instance = Path(env.get("INSTANCE_PATH", ROOT / "instance"))
    return {
        "PARTA_ENV": env.get("PARTA_ENV", "development"),
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": env.get("SECRET_KEY", ""),
        "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{instance / 'parta.db'}"),
        "HOST": env.get("HOST", "127.0.0.1"),
        "PORT": int(env.get("PORT", "8000")),
        "ASYNC_MODE": env.get("ASYNC_MODE", "eventlet"),
        "SOCKETIO_MESSAGE_QUEUE": env.get("SOCKETIO_MESSAGE_QUEUE") or None,
        "SOCKETIO_CHANNEL": env.get("SOCKETIO_CHANNEL", "parta"),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "PROXY_COUNT": int(env.get("PROXY_COUNT", "0")),
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), False),
        "MAIL_BACKEND": env.get("MAIL_BACKEND", "console"),
        "MAIL_FROM": env.get("MAIL_FROM", "Парта <parta@localhost>"),
        "SMTP_HOST": env.get("SMTP_HOST", "127.0.0.1"),
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_USER": env.get("SMTP_USER", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _bool(env.get("SMTP_STARTTLS"), False),
        "SMTP_SSL": _bool(env.get("SMTP_SSL"), False),
        "SMS_BACKEND": env.get("SMS_BACKEND", "console"),
        "SMS_GATEWAY_URL": env.get("SMS_GATEWAY_URL", ""),
        "SMS_GATEWAY_TOKEN": env.get("SMS_GATEWAY_TOKEN", ""),
        "SUPPORT_EMAIL": env.get("SUPPORT_EMAIL", "support@parta.local"),
        "RTC_URL": env.get("RTC_URL", "http://127.0.0.1:8765"),
        "TURN_URLS": env.get("TURN_URLS", ""),
        "TURN_SECRET": env.get("TURN_SECRET", ""),
        "TURN_TTL": int(env.get("TURN_TTL", "21600")),
        "PERSONAL_QUOTA_MB": int(env.get("PERSONAL_QUOTA_MB", "200")),
    }


def _check_production(config):
    """A production server refuses settings that would leak codes or sessions."""
    if config["PARTA_ENV"] != "production":
        return
    problems = []
    if not config["SECRET_KEY"]:
        problems.append("SECRET_KEY must be set")
    for backend in ("MAIL_BACKEND", "SMS_BACKEND"):
        if config[backend] == "console":
            problems.append(f"{backend}=console prints sign-in codes to the log")
    if problems:
        raise RuntimeError("refusing to start in production: " + "; ".join(problems))


def _secret_key(instance):
    """Development keeps a random key in instance/ so sessions survive restarts."""
    path = Path(instance) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(test_config=None):
    app = Flask(__name__, instance_path=settings_from_env(os.environ)["INSTANCE_PATH"])
    app.config.update(settings_from_env(os.environ))
    if test_config:
        app.config.update(test_config)
    _check_production(app.config)
    Path(app.config["INSTANCE_PATH"]).mkdir(parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(app.config["INSTANCE_PATH"])
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=app.config["SESSION_COOKIE_SECURE"],
        BABEL_DEFAULT_LOCALE="ru",
        BABEL_DEFAULT_TIMEZONE="Europe/Moscow",
        BABEL_TRANSLATION_DIRECTORIES=str(ROOT / "translations"),
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_HEADERS_ENABLED=True,
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_MIN_SIZE=512,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
    )

    bind_database(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=extensions.select_locale)
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        channel=app.config["SOCKETIO_CHANNEL"],
        manage_session=False,
    )

    for blueprint in (
        home_routes.bp,
        auth_routes.bp,
        chats_routes.bp,
        articles_routes.bp,
        documents_routes.bp,
        schools_routes.bp,
        notifications_routes.bp,
        operator_routes.bp,
        help_routes.bp,
        appeals_routes.bp,
        lessons_routes.bp,
    ):
        app.register_blueprint(blueprint)

    _register_errors(app)
    _register_commands(app)
    extensions.register_template_helpers(app)

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    app.wsgi_app = WhiteNoise(
        app.wsgi_app, root=str(ROOT / "static"), prefix="static/", max_age=ONE_YEAR
    )
    return app


def _register_errors(app):
    messages = {
        400: lambda: _("The request could not be understood. Go back and try again."),
        403: lambda: _("You do not have access to this page."),
        404: lambda: _("There is no such page, or it is not open to you."),
        405: lambda: _("This action is not available here."),
        413: lambda: _("The file is too large."),
        429: lambda: _("Too many attempts in a row. Wait a few minutes and try again."),
        500: lambda: _("Something went wrong on our side. Try again in a minute."),
    }

    def render_error(error):
        code = getattr(error, "code", 500) or 500
        if code == 500:
            log.exception("unhandled error on %s", request.path)
        response = render_template(
            "errors/error.html", code=code, message=messages.get(code, messages[500])()
        )
        return response, code

    for code in messages:
        app.register_error_handler(code, render_error)

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = _("The form has expired. Reload the page and send it again.")
        return render_template("errors/error.html", code=400, message=message), 400


def _register_commands(app):
    import click

    @app.cli.command("migrate")
    def migrate_command():
        """Create the database or upgrade it to the newest schema."""
        applied = migrate.upgrade()
        click.echo(f"migrations applied: {', '.join(applied) or 'none (up to date)'}")

    @app.cli.command("setup")
    def setup_command():
        """Upgrade the schema and load the demo data on the first start."""
        from db import demo

        migrate.upgrade()
        if demo.load_if_empty(f"http://{app.config['HOST']}:{app.config['PORT']}"):
            click.echo("demo data loaded")
        demo.print_sign_ins(click.echo, app.config["HOST"], app.config["PORT"])


def _before_first_serve(app):
    host, port = app.config["HOST"], app.config["PORT"]
    print(f" * Parta is serving on http://{host}:{port}/ (async mode {app.config['ASYNC_MODE']})")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    application = create_app()
    _before_first_serve(application)
    socketio.run(
        application,
        host=application.config["HOST"],
        port=application.config["PORT"],
        log_output=application.config["PARTA_ENV"] != "production",
        allow_unsafe_werkzeug=application.config["ASYNC_MODE"] == "threading",
    )
