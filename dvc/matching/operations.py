"""Turn today's rows into a matching instance, and accepted proposals into real teams."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from dvc.core.context import today
from dvc.core.errors import DomainError, Invalid
from dvc.core.events import log_event
from dvc.core.geo import distance_m
from dvc.extensions import db
from dvc.matching import model
from dvc.matching.engine import suggest
from dvc.needs.models import WAITING, Need
from dvc.needs.operations import days_waiting, get_need
from dvc.operations.models import Operation
from dvc.teams import operations as teams
from dvc.teams.models import ACTIVE, Team
from dvc.volunteers import labels
from dvc.volunteers.models import CheckIn



def leaders_before(volunteer_ids) -> set[int]:
    """Return which of these volunteers led a team that came back on an earlier day."""
    if not volunteer_ids:
        return set()
    return set(db.session.scalars(select(Team.leader_id).where(
        Team.leader_id.in_(volunteer_ids), Team.day < today(), Team.status == "returned")))


def matching_volunteers(operation: Operation) -> tuple[list[model.Volunteer], list[CheckIn]]:
    """Today's free checked-in volunteers as the engine sees them, in check-in order."""
    checkins = teams.free_checked_in(operation)
    ids = [c.volunteer_id for c in checkins]
    days, led = teams.days_active_before(ids), leaders_before(ids)
    return [model.Volunteer(
        id=c.volunteer_id, site_id=c.site_id, group_id=c.volunteer.group_id,
        skills=frozenset(c.volunteer.skills or ()),
        vehicle=c.volunteer.vehicle == "light_truck",   # what "vehicle needed" asks for
        experience=days.get(c.volunteer_id, 0), leader_capable=c.volunteer_id in led,
        headcount=c.headcount) for c in checkins], checkins


def matching_needs(operation: Operation) -> list[model.Need]:
    """Ready and continuing needs that have no active team, as the engine sees them."""
    staffed = select(Team.need_id).where(Team.status.in_(ACTIVE))
    rows = db.session.scalars(select(Need).where(
        Need.operation_id == operation.id, Need.status.in_(WAITING),
        Need.id.not_in(staffed)).order_by(Need.id))
    sites = {s.id: s for s in operation.sites}
    main = operation.main_site
    return [_as_need(need, sites.get(need.site_id) or main) for need in rows]


def _as_need(need: Need, site) -> model.Need:
    return model.Need(
        id=need.id, site_id=site.id if site else 0, people_min=need.people_min,
        people_max=need.people_max, skills=frozenset(need.skills or ()),
        vehicle=need.vehicle_needed, priority=need.priority,
        continuing=need.status == "continuing",
        days_waiting=days_waiting(need, today()),
        distance_km=_km(site, need))


def _km(site, need: Need) -> float:
    """Distance from the site; unknown points cost nothing rather than guess."""
    if site is None or None in (site.lat, site.lon, need.lat, need.lon):
        return 0.0
    return distance_m(site.lat, site.lon, need.lat, need.lon) / 1000


def suggest_teams(operation: Operation,
                  site_id: int | None = None) -> tuple[model.Plan, dict[int, CheckIn]]:
    """Propose today's teams for one operation (or one of its sites); nothing is saved."""
    volunteers, checkins = matching_volunteers(operation)
    needs = matching_needs(operation)
    if site_id is not None:
        volunteers = [v for v in volunteers if v.site_id == site_id]
        needs = [n for n in needs if n.site_id == site_id]
    plan = suggest(model.Instance(tuple(volunteers), tuple(needs)))
    return plan, {c.volunteer_id: c for c in checkins}


def localised_reasons(plan: model.Plan, checkins: dict[int, CheckIn]) -> dict[int, str]:
    """Each proposal's reason in the reader's language, with people's names."""
    def name(volunteer_id: int) -> str:
        checkin = checkins.get(volunteer_id)
        return checkin.volunteer.name if checkin else str(volunteer_id)

    return {t.need_id: model.reason_text(t.facts, name=name, _=_, sep="・",
                                         label=lambda s: labels.label(labels.SKILLS, s))
            for t in plan.teams}


def accept_suggestions(operation: Operation, proposals: list[dict], *, actor: str):
    """Form a team for each accepted (possibly edited) proposal, as a coordinator would.

    Each goes through `form_team`, so the same rules and conflicts apply; one refused proposal
    does not undo the others, and says why.
    """
    if not proposals:
        raise Invalid(_("Choose at least one proposal to accept."),
                      fields={"teams": "required"})
    formed, refused = [], []
    # One lock order for every coordinator (need id), so two accepts cannot deadlock.
    for proposal in sorted(proposals, key=lambda p: p["need_id"]):
        try:
            with db.session.begin_nested():
                team, warnings = teams.form_team(
                    operation, get_need(proposal["need_id"]), proposal["member_ids"],
                    proposal["leader_id"], actor=actor)
        except DomainError as error:
            refused.append({"need_id": proposal["need_id"], "error": error.code,
                            "message": error.message, **error.data})
            continue
        team.warnings = warnings
        formed.append(team)
    log_event("matching.accepted", actor=actor, operation_id=operation.id, subject=None,
              payload={"formed": [t.id for t in formed],
                       "refused": [r["need_id"] for r in refused]})
    return formed, refused

