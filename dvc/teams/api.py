"""JSON API for teams: form, dispatch, arrive, finish, return, report, recall."""
from __future__ import annotations

from sqlalchemy import select

from dvc.auth.access import actor_name
from dvc.extensions import ApiBlueprint, db
from dvc.needs.operations import get_need
from dvc.operations.operations import get_operation
from dvc.teams import operations as ops
from dvc.teams.models import Incident, Team
from dvc.teams.schemas import (AvailableOut, DispatchIn, FormedOut, IncidentIn, IncidentOut, RecallIn, ReportIn,
                               ReportOut, TeamIn, TeamOut)

bp = ApiBlueprint("teams_api", __name__, url_prefix="/api/v1",
                  description="Teams (グループ), dispatch and activity reports")


@bp.route("/operations/<int:op_id>/teams", methods=["POST"])
@bp.arguments(TeamIn)
@bp.response(201, FormedOut)
def post_team(data, op_id):
    """Form a team for a need: 409 when a member is busy or not checked in today."""
    operation = get_operation(op_id)
    team, warnings = ops.form_team(operation, get_need(data["need_id"]), data["member_ids"],
                                   data["leader_id"], actor=actor_name())
    team.warnings = warnings
    return team


@bp.route("/operations/<int:op_id>/teams", methods=["GET"])
@bp.response(200, TeamOut(many=True))
def list_teams(op_id):
    """Today's teams and those still out."""
    from dvc.core.context import today
    operation = get_operation(op_id)
    return db.session.scalars(select(Team).where(
        Team.operation_id == operation.id,
        (Team.day == today()) | Team.status.in_(("formed", "dispatched", "on_site", "finished")))
        .order_by(Team.id)).all()


def _step(team_id: int, action) -> Team:
    team = ops.get_team(team_id)
    action(team)
    return team


@bp.route("/operations/<int:op_id>/volunteers/available", methods=["GET"])
@bp.response(200, AvailableOut(many=True))
def available(op_id):
    """Today's checked-in volunteers who are not in an active team, longest waiting first."""
    checkins = ops.free_checked_in(get_operation(op_id))
    experience = ops.days_active_before([c.volunteer_id for c in checkins])
    for checkin in checkins:
        checkin.days_active = experience.get(checkin.volunteer_id, 0)
    return checkins


@bp.route("/teams/<int:team_id>/dispatch", methods=["POST"])
@bp.arguments(DispatchIn)
@bp.response(200, TeamOut)
def dispatch(data, team_id):
    """Send the team out."""
    return _step(team_id, lambda t: ops.dispatch_team(t, transport=data["transport"],
                                                      actor=actor_name()))


@bp.route("/teams/<int:team_id>/arrive", methods=["POST"])
@bp.response(200, TeamOut)
def arrive(team_id):
    """The team has arrived at the house."""
    return _step(team_id, lambda t: ops.arrive_team(t, actor=actor_name()))


@bp.route("/teams/<int:team_id>/finish", methods=["POST"])
@bp.response(200, TeamOut)
def finish(team_id):
    """The work is over for today; the team is heading back."""
    return _step(team_id, lambda t: ops.finish_team(t, actor=actor_name()))


@bp.route("/teams/<int:team_id>/return", methods=["POST"])
@bp.response(200, TeamOut)
def return_(team_id):
    """The team is back at the centre."""
    return _step(team_id, lambda t: ops.return_team(t, actor=actor_name()))


@bp.route("/teams/<int:team_id>/disband", methods=["POST"])
@bp.response(200, TeamOut)
def disband(team_id):
    """Undo a team before it leaves."""
    return _step(team_id, lambda t: ops.disband_team(t, actor=actor_name()))


@bp.route("/teams/<int:team_id>/report", methods=["POST"])
@bp.arguments(ReportIn)
@bp.response(201, ReportOut)
def report(data, team_id):
    """File the activity report at the report desk: completed or continuing."""
    return ops.report_team(ops.get_team(team_id), actor=actor_name(), reported_by="desk", **data)


@bp.route("/operations/<int:op_id>/recall", methods=["POST"])
@bp.arguments(RecallIn)
@bp.response(200, TeamOut(many=True))
def recall(data, op_id):
    """Recall every team in the field."""
    return ops.recall_all(get_operation(op_id), actor=actor_name(), reason=data["reason"])


@bp.route("/operations/<int:op_id>/teams/overdue", methods=["GET"])
@bp.response(200, TeamOut(many=True))
def overdue(op_id):
    """Teams not back by the end of the activity window."""
    return ops.overdue_teams(get_operation(op_id))


@bp.route("/operations/<int:op_id>/incidents", methods=["POST"])
@bp.arguments(IncidentIn)
@bp.response(201, IncidentOut)
def post_incident(data, op_id):
    """Record an injury or near-miss outside a report."""
    return ops.record_incident(get_operation(op_id).id, actor=actor_name(), **data)


@bp.route("/operations/<int:op_id>/incidents", methods=["GET"])
@bp.response(200, IncidentOut(many=True))
def list_incidents(op_id):
    """Injuries and near-misses, newest first, for the head of the centre."""
    return db.session.scalars(select(Incident).where(
        Incident.operation_id == get_operation(op_id).id)
        .order_by(Incident.reported_dt.desc())).all()
