"""Where a request meets a drill: its clock, and its sites without power.

One before-request hook: a request about a drill's operation runs on the drill's virtual clock
(so everything it records carries scenario time), and changes made at a site whose power is out
in the scenario are refused, as the site's real screens would be dark.
"""
from __future__ import annotations

from flask import current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import select

from dvc.auth.access import operation_of_request
from dvc.core.context import use_clock
from dvc.core.errors import Conflict
from dvc.extensions import db
from dvc.operations.models import Operation

# Endpoints that still work at a site without power: headquarters pause and reopen it.
POWER_EXEMPT_PREFIXES = ("drills.", "api.drills", "sites.", "api.sites")


def is_drill_operation(operation_id: int) -> bool:
    """Tell whether an operation is a drill (an operation's kind never changes: cached)."""
    known = current_app.extensions.setdefault("dvc.operation_is_drill", {})
    if operation_id not in known:
        kind = db.session.scalar(select(Operation.kind).where(Operation.id == operation_id))
        if kind is None:
            return False
        known[operation_id] = kind == "drill"
    return known[operation_id]


def current_drill():
    """Return the drill this request is about, or None."""
    return g.get("drill")


def enter_drill():
    """before_request: run a drill's requests on its clock; refuse changes at a dark site."""
    from dvc.drills.models import Drill
    from dvc.drills.operations import drill_clock
    operation_id = operation_of_request()
    if operation_id is None or not is_drill_operation(operation_id):
        return None
    drill = db.session.get(Drill, operation_id)
    if drill is None:
        return None
    g.drill = drill
    use_clock(drill_clock(drill))
    if drill.power_out and request.method not in ("GET", "HEAD", "OPTIONS"):
        _refuse_at_dark_site(drill)
    return None


def _site_of_request() -> int | None:
    values = [(request.view_args or {}).get("site_id"), request.args.get("site"),
              request.form.get("site_id")]
    if request.is_json:
        body = request.get_json(silent=True)
        values.append(body.get("site_id") if isinstance(body, dict) else None)
    for value in values:
        try:
            return int(value)
        except (TypeError, ValueError):
            continue
    return None


def _refuse_at_dark_site(drill) -> None:
    if (request.endpoint or "").startswith(POWER_EXEMPT_PREFIXES):
        return
    site_id = _site_of_request()
    if site_id in drill.power_out:
        raise Conflict(_("Drill: this site has no power. Its screens cannot be used: switch to "
                         "the paper forms until the power is back."), code="drill_power_out")
