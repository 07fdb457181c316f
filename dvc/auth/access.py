"""Deny by default: one table says who may use each endpoint (dvc/auth/matrix.py), and one
hook enforces it, with the scoping of a council's staff to their own operations."""
from __future__ import annotations

from flask import current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from dvc.auth.matrix import PUBLIC, allowed_roles


def audited(view):
    """Mark a reading endpoint that also writes (it logs who viewed a survivor's record), so
    that SQLite takes the write lock at BEGIN instead of failing to upgrade a read lock."""
    view.dvc_writes = True
    return view


def writes(endpoint: str | None) -> bool:
    """Tell whether a request to this endpoint may write to the database."""
    view = current_app.view_functions.get(endpoint) if endpoint else None
    return request.method not in ("GET", "HEAD", "OPTIONS") or getattr(view, "dvc_writes", False)


def roles_of(endpoint: str | None):
    """Return who may use an endpoint: PUBLIC, its roles (admin included), or None (nobody:
    it is not in the table)."""
    if endpoint is None:
        return PUBLIC  # unknown URL: let routing answer 404
    return allowed_roles(endpoint)


def may(endpoint: str) -> bool:
    """Tell whether the current user may use an endpoint (pages show only links that work)."""
    roles = roles_of(endpoint)
    if roles is PUBLIC:
        return True
    return roles is not None and current_user.is_authenticated and current_user.role in roles


def wants_json() -> bool:
    return request.path.startswith("/api/")


def deny(status: int, message: str | None = None):
    """Answer 401 or 403 in the form the client understands."""
    if wants_json():
        code = "unauthorized" if status == 401 else "forbidden"
        message = message or (_("Sign in first.") if status == 401
                              else _("Your role may not do this."))
        return jsonify(error=code, message=message, fields={}), status
    if status == 401:
        return redirect(url_for("auth.login", next=request.full_path))
    return render_template("error.html", status=403,
                           message=message or _("Your role may not open this page.")), 403


def enforce_access():
    """before_request hook: check the user's role against the table, and that a council's
    staff only reach their own operations."""
    roles = roles_of(request.endpoint)
    if roles is PUBLIC:
        return None
    if not current_user.is_authenticated:
        return deny(401)
    if roles is None or current_user.role not in roles:
        return deny(403)
    if current_user.operation_ids is None:      # the prefecture's staff see everything
        return None
    operation_id = operation_of_request()
    if operation_id is not None and operation_id not in current_user.operation_ids:
        return deny(403, _("This belongs to another centre's operation: your account is not "
                           "part of it."))
    return None


def owned_by() -> dict:
    """URL arguments that name a record, and the model whose operation_id owns it (imported
    here: the domains import this module)."""
    from dvc.needs.models import Need
    from dvc.shelters.models import Shelter
    from dvc.sites.models import Site
    from dvc.teams.models import Team
    from dvc.volunteers.models import Volunteer
    return {"need_id": Need, "team_id": Team, "site_id": Site, "shelter_id": Shelter,
            "volunteer_id": Volunteer}


def operation_of_request() -> int | None:
    """The operation the requested URL belongs to, or None (no operation in it, or unknown)."""
    from dvc.extensions import db
    args = request.view_args or {}
    if "op_id" in args:
        return args["op_id"]
    for name, model in owned_by().items():
        if name in args:
            row = db.session.get(model, args[name])
            return row.operation_id if row is not None else None
    return None


def visible(query, column):
    """Limit a query over operations to those the user may see."""
    ids = current_user.operation_ids if current_user.is_authenticated else frozenset()
    return query if ids is None else query.where(column.in_(ids))


def actor_name() -> str:
    """Name who is acting, for the event log."""
    if current_user.is_authenticated:
        return f"user:{current_user.username}"
    return "public"
