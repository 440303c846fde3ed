from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.auth.actions import do_set_locale
from blueprints.home.actions import home_of
from blueprints.lessons import actions as lesson_actions
from blueprints.extensions import LANGUAGES, LOCALE_COOKIE, csrf

bp = Blueprint("home", __name__)

ONE_YEAR = 365 * 24 * 3600


@bp.route("/")
def index():
    """Guests get the landing page; a signed-in person their own desktop (SPEC §10)."""
    if not current_user.is_authenticated:
        return render_template("home/landing.html")
    home = home_of(current_user)
    taught = [place.school_class.id for place in home.taught]
    return render_template(
        "home/index.html", home=home, lessons=lesson_actions.running_for(current_user),
        call_chats=lesson_actions.class_call_chats(current_user, taught),
        may_start=bool(taught) or bool(home.administered),
    )


@bp.route("/contacts")
def contacts():
    return render_template("home/contacts.html")


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the interface language: kept in a cookie, and with the account if signed in."""
    locale = request.form.get("locale")
    back = request.form.get("next") or url_for("home.index")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("home.index")
    response = redirect(back, code=303)
    if locale in LANGUAGES:
        response.set_cookie(LOCALE_COOKIE, locale, max_age=ONE_YEAR, samesite="Lax", httponly=True)
        if current_user.is_authenticated:
            do_set_locale(current_user, locale)
    return response


@bp.route("/healthz")
@csrf.exempt
def healthz():
    """For load balancers and `make run`: the database answers."""
    from db import database

    database.execute_sql("SELECT 1")
    return {"status": "ok"}


from blueprints.home import offline  # noqa: E402,F401  (the offline routes join this blueprint)
