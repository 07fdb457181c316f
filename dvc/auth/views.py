"""Sign in and out, one's own account, the admin's list of accounts, and first-run setup."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from dvc.auth import limits
from dvc.auth import operations as ops
from dvc.auth import setup as first_run
from dvc.auth.access import actor_name
from dvc.auth.models import User
from dvc.auth.sessions import end_session, start_session
from dvc.core.errors import DomainError
from dvc.core.forms import show_domain_errors
from dvc.extensions import db

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ButtonForm(FlaskForm):
    """A button that only needs CSRF protection."""


class SetupForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=60)])
    display_name = StringField(_l("Your name"), validators=[Length(max=120)])
    password = PasswordField(_l("Password"), validators=[
        DataRequired(), Length(min=ops.MIN_PASSWORD,
                               message=_l("Use at least %(min)d characters."))])
    confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])


def _safe_next(target: str | None) -> str:
    """Only follow redirects within this site."""
    if not target or urlsplit(target).netloc or not target.startswith("/"):
        return url_for("operations.index")
    return target


def login_page(form: LoginForm, *, refused: str | None = None, status: int = 200):
    """The sign-in page; on a demo database it says the demo passwords are public."""
    from dvc.demo import demo_accounts
    return render_template("auth/login.html", form=form, refused=refused,
                           demo=bool(demo_accounts()), first_run=ops.needs_first_admin()), status


@bp.route("/login", methods=["GET", "POST"])
@limits.failed_logins_here
@limits.failed_logins_for_name
def login():
    form = LoginForm()
    if form.validate_on_submit():
        attempt = ops.sign_in(form.username.data, form.password.data,
                              ip=limits.client_address())
        if attempt.user:
            start_session(attempt.user)
            return redirect(_safe_next(request.args.get("next")))
        # What the limits count (limits.py): every failure here, and names with no account.
        g.dvc_login_failed = True
        g.dvc_login_unknown = attempt.outcome == "unknown"
        if attempt.outcome == "locked":
            return login_page(form, refused=limits.locked_message(), status=429)
        flash(_("Wrong user name or password."), "error")
    return login_page(form)


@bp.route("/logout", methods=["POST"])
def logout():
    end_session()
    flash(_("Signed out."), "info")
    return redirect(url_for("auth.login"))


# --- one's own account -----------------------------------------------------------------

@bp.route("/account")
def account():
    """One's own account: who, which role, and signing out on every device."""
    return render_template("auth/account.html", user=current_user, button=ButtonForm())


@bp.route("/account/sign-out-everywhere", methods=["POST"])
def sign_out_everywhere():
    """End every session of one's own, this one too (a tablet was lost)."""
    ops.end_sessions(current_user, actor=actor_name())
    end_session()
    flash(_("You were signed out on every device."), "info")
    return redirect(url_for("auth.login"))


# --- the admin's list of accounts ----------------------------------------------------------

def _managed_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user not in ops.visible_users(current_user):
        abort(404)
    return user


@bp.route("/users")
def users():
    """Staff accounts: who is locked out, and buttons to unlock or sign out everywhere."""
    return render_template("auth/users.html", users=ops.visible_users(current_user),
                           now=ops.staff_now(), button=ButtonForm())


@bp.route("/users/<int:user_id>/sign-out-everywhere", methods=["POST"])
def user_sign_out_everywhere(user_id):
    user = _managed_user(user_id)
    ops.end_sessions(user, actor=actor_name())
    flash(_("%(name)s was signed out on every device.", name=user.display_name), "info")
    return redirect(url_for("auth.users"))


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
def user_unlock(user_id):
    user = _managed_user(user_id)
    ops.unlock_user(user, actor=actor_name())
    flash(_("%(name)s may sign in again.", name=user.display_name), "info")
    return redirect(url_for("auth.users"))


# --- first run -------------------------------------------------------------------------

@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """Create the head of the centre's account on a new server (with the printed link)."""
    if not ops.needs_first_admin():
        abort(404)    # done once: from now on accounts are made by an admin or the CLI
    token = request.args.get("token")
    if not first_run.token_valid(token):
        return render_template("auth/setup.html", form=None), 403
    form = SetupForm()
    if form.validate_on_submit():
        try:
            user = ops.create_first_admin(form.username.data.strip(), form.password.data,
                                          display_name=form.display_name.data.strip(),
                                          actor="setup")
        except DomainError as err:
            db.session.rollback()
            if not show_domain_errors(form, err):
                flash(err.message, "error")
        else:
            first_run.forget_token()
            start_session(user)
            flash(_("Your account is ready. Next, create the operation and your staff's "
                    "accounts."), "info")
            return redirect(url_for("operations.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/setup.html", form=form), status
