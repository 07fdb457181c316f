"""JSON API for suggested teams: propose, then accept (all, some, or edited)."""
from __future__ import annotations

from dvc.auth.access import actor_name
from dvc.extensions import ApiBlueprint
from dvc.matching import operations as ops
from dvc.matching.schemas import AcceptIn, AcceptOut, SuggestionsOut, SuggestionsQuery
from dvc.operations.operations import get_operation

bp = ApiBlueprint("matching_api", __name__, url_prefix="/api/v1",
                  description="Suggested teams (the matching engine)")


@bp.route("/operations/<int:op_id>/matching/suggestions", methods=["GET"])
@bp.arguments(SuggestionsQuery, location="query")
@bp.response(200, SuggestionsOut)
def suggestions(query, op_id):
    """Propose today's teams; nothing is formed until a coordinator accepts."""
    operation = get_operation(op_id)
    plan, checkins = ops.suggest_teams(operation, query["site_id"])
    reasons = ops.localised_reasons(plan, checkins)
    return {
        "teams": [{"need_id": t.need_id, "member_ids": list(t.member_ids),
                   "leader_id": t.leader_id, "headcount": t.facts["people"],
                   "reason": reasons[t.need_id]} for t in plan.teams],
        "unassigned_volunteer_ids": list(plan.unassigned_volunteer_ids),
        "unserved_need_ids": list(plan.unserved_need_ids),
        "objective": plan.objective,
        "seconds": plan.meta["seconds"],
    }


@bp.route("/operations/<int:op_id>/matching/accept", methods=["POST"])
@bp.arguments(AcceptIn)
@bp.response(200, AcceptOut)
def accept(data, op_id):
    """Form the accepted teams through the same rules as manual ones; report each refusal."""
    formed, refused = ops.accept_suggestions(get_operation(op_id), data["teams"],
                                             actor=actor_name())
    return {"formed": formed, "refused": refused}
