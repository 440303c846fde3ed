from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from blueprints.auth.actions import do_set_locale
from blueprints.extensions import LANGUAGES, LOCALE_COOKIE, csrf

bp = Blueprint("home", __name__)

ONE_YEAR = 365 * 24 * 3600


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return render_template("home/landing.html")
    return render_template("home/index.html", schools=list(current_user.schools()))


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
