"""Flask extensions, made here and bound to the application in ``create_app``."""
import datetime as dt
import hashlib
from functools import lru_cache
from pathlib import Path

import phonenumbers
from flask import current_app, has_request_context, request, url_for
from flask_babel import Babel, format_date, format_datetime, get_locale
from flask_babel.speaklater import LazyString
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, current_user
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect, generate_csrf
from htmx_flask import Htmx

LANGUAGES = {"ru": "Русский", "en": "English"}
LOCALE_COOKIE = "parta_lang"

babel = Babel()
compress = Compress()
csrf = CSRFProtect()
htmx = Htmx()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None
login_manager.session_protection = "basic"
limiter = Limiter(key_func=get_remote_address, default_limits=[])
socketio = SocketIO()


def select_locale():
    """The person's saved choice, then the language cookie, then Russian."""
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    chosen = request.cookies.get(LOCALE_COOKIE)
    return chosen if chosen in LANGUAGES else "ru"


@lru_cache(maxsize=256)
def _file_digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def static_url(filename):
    """A static file's URL with its content hash, so it can be cached for a year."""
    path = Path(current_app.static_folder) / filename
    return url_for("static", filename=filename, v=_file_digest(str(path)))


def format_phone(e164):
    """+79218695260 → +7 921 869-52-60."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _lazy_strings_as_text(value):
    """flask_babel's lazy strings call themselves safe HTML (``__html__``), but ours carry
    what people typed (``_l("«%(name)s» is too large", name=filename)``): print them as text,
    escaped like any other string."""
    return str(value) if isinstance(value, LazyString) else value


def is_bare():
    """Is this page shown inside another of ours (an iframe), without header, menu and footer?

    Browsers say so in ``Sec-Fetch-Dest``; ``?panel=1`` asks for it where they do not.
    """
    if not has_request_context():
        return False
    return request.headers.get("Sec-Fetch-Dest") == "iframe" or request.args.get("panel") == "1"


def register_template_helpers(app):
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.finalize = _lazy_strings_as_text

    @app.context_processor
    def page_context():
        return {"today_iso": dt.date.today().isoformat(), "bare": is_bare()}

    @app.after_request
    def framing_headers(response):
        # Only our own pages may frame ours (the lesson chat on the call screen): no clickjacking.
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
        if request.method == "GET" and response.mimetype == "text/html":
            response.vary.add("Sec-Fetch-Dest")
            if is_bare():  # the bare version must never be saved as the page itself
                response.headers["Cache-Control"] = "no-store"
        return response

    def nav_counts():
        """The menu's badges, counted only where the menu is drawn (not for partials)."""
        from blueprints.chats.actions import total_unread
        from blueprints.notifications.actions import unread_count

        if not current_user.is_authenticated:
            return {"notifications": 0, "messages": 0}
        return {"notifications": unread_count(current_user), "messages": total_unread(current_user)}

    app.jinja_env.filters["phone"] = format_phone
    app.jinja_env.globals.update(
        get_locale=get_locale,
        static_url=static_url,
        csrf_token=generate_csrf,
        languages=LANGUAGES,
        format_date=format_date,
        format_datetime=format_datetime,
        nav_counts=nav_counts,
    )
