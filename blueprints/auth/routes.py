"""Sign-up, sign-in, codes, password reset and the profile (SPEC §1).

A flow (sign-up, reset, or sign-in that needs a code) keeps its state in the
signed session: which identifier, and whether its code has been confirmed.
"""
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from blueprints.auth import actions
from blueprints.auth.actions import RESET, SIGNIN, SIGNUP, AuthError, Identifier
from blueprints.auth.forms import CodeForm, IdentifierForm, PasswordForm, ProfileForm, SignInForm
from blueprints.extensions import limiter, login_manager
from blueprints.schools.actions import do_claim_roster_entries
from db.models import User

bp = Blueprint("auth", __name__)

FLOW = "auth_flow"
OPEN_WHILE_INCOMPLETE = {
    "auth.about_you", "auth.logout", "home.set_language", "home.service_worker", "home.offline", "static",
}


@login_manager.user_loader
def load_user(session_id):
    user_id, _sep, epoch = session_id.partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = User.get_or_none(User.id == int(user_id))
    if user is None or user.session_epoch != int(epoch):
        return None
    return user


@bp.before_app_request
def require_complete_profile():
    """Nobody uses Parta nameless: the «about you» step comes right after the password."""
    if (
        current_user.is_authenticated
        and not current_user.profile_complete
        and request.endpoint not in OPEN_WHILE_INCOMPLETE
    ):
        return redirect(url_for("auth.about_you"))


def _identifier_key():
    raw = request.form.get("identifier") or (session.get(FLOW) or {}).get("identifier") or ""
    try:
        return "id:" + actions.parse_identifier(raw).value
    except AuthError:
        return "id:" + raw.strip().lower()


sending_limit_per_identifier = limiter.shared_limit(
    "5 per hour", scope="send-code-id", key_func=_identifier_key, methods=["POST"]
)
sending_limit_per_ip = limiter.shared_limit("30 per hour", scope="send-code-ip", methods=["POST"])


def _sign_in_refused(response):
    """Only wrong passwords count: a class signing in from one school address, or a
    person on several devices, never runs into the limit by succeeding."""
    return response.status_code != 303


sign_in_limit_per_identifier = limiter.limit(
    "10 per 15 minutes", key_func=_identifier_key, methods=["POST"], deduct_when=_sign_in_refused
)
sign_in_limit_per_ip = limiter.limit("60 per hour", methods=["POST"], deduct_when=_sign_in_refused)
code_check_limit_per_ip = limiter.limit("30 per 10 minutes", methods=["POST"])


def _flow():
    flow = session.get(FLOW)
    if not flow:
        abort(redirect(url_for("auth.login")))
    return flow


def _flow_identifier(flow):
    return Identifier(flow["identifier"], flow["kind"])


def _start_flow(purpose, identifier, **extra):
    session[FLOW] = {"purpose": purpose, "identifier": identifier.value, "kind": identifier.kind}
    session[FLOW].update(extra)


def _safe_next(target):
    parts = urlsplit(target or "")
    if target and target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return url_for("home.index")


def _finish_sign_in(user):
    actions.do_signed_in(user)
    do_claim_roster_entries(user)
    session.pop(FLOW, None)
    login_user(user, remember=True)


# Sign-in --------------------------------------------------------------------------


@bp.route("/auth/login", methods=["GET", "POST"])
@sign_in_limit_per_ip
@sign_in_limit_per_identifier
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm(identifier=request.args.get("identifier", ""))
    error = None
    if form.validate_on_submit():
        try:
            user = actions.check_sign_in(form.parsed, form.password.data)
        except AuthError as refusal:
            error = refusal.message
        else:
            if actions.sign_in_needs_code(user):
                return _send_sign_in_code(form.parsed, user)
            _finish_sign_in(user)
            return redirect(_safe_next(request.args.get("next")), code=303)
    return render_template("auth/login.html", form=form, error=error)


def _send_sign_in_code(identifier, user):
    try:
        actions.do_send_code(identifier, SIGNIN)
    except AuthError as refusal:
        flash(str(refusal.message), "error")
        return redirect(url_for("auth.login"), code=303)
    _start_flow(SIGNIN, identifier, user_id=user.id, next=request.args.get("next"))
    flash(_("Several wrong passwords were entered for this account: confirm it is you with a code."))
    return redirect(url_for("auth.code"), code=303)


@bp.route("/auth/logout", methods=["POST"])
def logout():
    logout_user()
    session.pop(FLOW, None)
    return redirect(url_for("home.index"), code=303)


# Sign-up --------------------------------------------------------------------------


@bp.route("/auth/signup", methods=["GET", "POST"])
@sending_limit_per_ip
@sending_limit_per_identifier
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = IdentifierForm(identifier=request.args.get("identifier", ""))
    error = None
    if form.validate_on_submit():
        try:
            actions.do_send_code(form.parsed, SIGNUP)
        except AuthError as refusal:
            error = refusal.message
        else:
            _start_flow(SIGNUP, form.parsed)
            return redirect(url_for("auth.code"), code=303)
    return render_template("auth/signup.html", form=form, error=error)


@bp.route("/auth/password", methods=["GET", "POST"])
def create_password():
    flow = _flow()
    if flow["purpose"] != SIGNUP or not flow.get("verified"):
        return redirect(url_for("auth.signup"))
    form = PasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            user = actions.do_create_account(
                _flow_identifier(flow), form.password.data, locale=get_locale().language
            )
        except AuthError as refusal:
            error = refusal.message
        else:
            _finish_sign_in(user)
            return redirect(url_for("auth.about_you"), code=303)
    return render_template(
        "auth/password.html", form=form, error=error, identifier=_flow_identifier(flow)
    )


@bp.route("/auth/about-you", methods=["GET", "POST"])
@login_required
def about_you():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        actions.do_update_profile(current_user, form.data)
        return redirect(url_for("home.index"), code=303)
    return render_template("auth/about_you.html", form=form)


@bp.route("/auth/exists")
def account_exists():
    """A confirmed code for an identifier that already has an account."""
    flow = _flow()
    if flow["purpose"] != SIGNUP or not flow.get("verified"):
        return redirect(url_for("auth.signup"))
    user = User.by_identifier(flow["identifier"])
    if user is None:
        return redirect(url_for("auth.create_password"))
    return render_template("auth/exists.html", user=user, identifier=_flow_identifier(flow))


@bp.route("/auth/not-me")
def not_me():
    """«Это не я»: the number's account is somebody else's; show only safe ways on."""
    session.pop(FLOW, None)
    return render_template("auth/not_me.html")


# Codes ----------------------------------------------------------------------------


@bp.route("/auth/code", methods=["GET", "POST"])
@code_check_limit_per_ip
def code():
    flow = _flow()
    if flow.get("verified"):
        return redirect(_after_code(flow))
    identifier = _flow_identifier(flow)
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        try:
            actions.do_verify_code(identifier, flow["purpose"], form.code.data)
        except AuthError as refusal:
            error = refusal.message
        else:
            if flow["purpose"] == SIGNIN:
                user = User.get_or_none(User.id == flow["user_id"])
                target = _safe_next(flow.get("next"))
                _finish_sign_in(user)
                return redirect(target, code=303)
            flow["verified"] = True
            session[FLOW] = flow
            return redirect(_after_code(flow), code=303)
    return render_template(
        "auth/code.html",
        form=form,
        error=error,
        identifier=identifier,
        wait=actions.seconds_until_resend(identifier, flow["purpose"]),
    )


def _after_code(flow):
    if flow["purpose"] == RESET:
        return url_for("auth.reset_password")
    if User.by_identifier(flow["identifier"]) is not None:
        return url_for("auth.account_exists")
    return url_for("auth.create_password")


@bp.route("/auth/code/resend", methods=["POST"])
@sending_limit_per_ip
@sending_limit_per_identifier
def resend_code():
    flow = _flow()
    identifier = _flow_identifier(flow)
    try:
        _send_for_flow(identifier, flow["purpose"])
    except AuthError as refusal:
        flash(str(refusal.message), "error")
    else:
        flash(_("We sent a new code to %(to)s.", to=identifier.display))
    return redirect(url_for("auth.code"), code=303)


def _send_for_flow(identifier, purpose):
    # A reset for an unknown account stores a code that is never sent, so that the
    # page, its countdown and its refusals look the same and reveal no account.
    known = purpose != RESET or User.by_identifier(identifier.value) is not None
    actions.do_send_code(identifier, purpose, deliver=known)


@bp.route("/auth/change")
def change_identifier():
    """«Изменить»: back to the first step to type another phone or email."""
    flow = session.pop(FLOW, None) or {}
    start = {RESET: "auth.reset", SIGNIN: "auth.login"}.get(flow.get("purpose"), "auth.signup")
    return redirect(url_for(start))


# Password reset -------------------------------------------------------------------


@bp.route("/auth/reset", methods=["GET", "POST"])
@sending_limit_per_ip
@sending_limit_per_identifier
def reset():
    form = IdentifierForm(identifier=request.args.get("identifier", ""))
    error = None
    if form.validate_on_submit():
        try:
            _send_for_flow(form.parsed, RESET)
        except AuthError as refusal:
            error = refusal.message
        else:
            _start_flow(RESET, form.parsed)
            return redirect(url_for("auth.code"), code=303)
    return render_template("auth/reset.html", form=form, error=error)


@bp.route("/auth/reset/password", methods=["GET", "POST"])
def reset_password():
    flow = _flow()
    if flow["purpose"] != RESET or not flow.get("verified"):
        return redirect(url_for("auth.reset"))
    form = PasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            user = actions.do_reset_password(_flow_identifier(flow), form.password.data)
        except AuthError as refusal:
            error = refusal.message
        else:
            logout_user()
            _finish_sign_in(user)
            flash(_("The password has been changed. Other devices have been signed out."))
            return redirect(url_for("home.index"), code=303)
    return render_template("auth/reset_password.html", form=form, error=error)


# Profile --------------------------------------------------------------------------


@bp.route("/profile")
@login_required
def profile():
    return render_template("auth/profile.html", user=current_user)


@bp.route("/profile/edit", methods=["GET", "POST"])
@login_required
def edit_profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        actions.do_update_profile(current_user, form.data)
        flash(_("Saved."))
        return redirect(url_for("auth.profile"), code=303)
    return render_template("auth/edit_profile.html", form=form)
