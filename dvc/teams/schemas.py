"""API shapes for teams, dispatch and activity reports."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from dvc.core.schemas import Whole, id_field
from dvc.teams import models as m


class TeamIn(Schema):
    need_id = id_field(required=True)
    member_ids = fields.List(id_field(), required=True,
                             validate=validate.Length(min=1, max=100))
    leader_id = id_field(required=True)


class MemberOut(Schema):
    volunteer_id = fields.Integer()
    name = fields.String(attribute="volunteer.name")
    headcount = fields.Integer()
    active = fields.Boolean()


class TeamOut(Schema):
    id = fields.Integer()
    number = fields.String()
    operation_id = fields.Integer()
    need_id = fields.Integer()
    need_status = fields.String(attribute="need.status")
    site_id = fields.Integer()
    day = fields.Date()
    leader_id = fields.Integer()
    status = fields.String()
    transport = fields.String(allow_none=True)
    headcount = fields.Integer()
    members = fields.List(fields.Nested(MemberOut))
    formed_dt = fields.DateTime()
    due_back_dt = fields.DateTime()
    dispatched_dt = fields.DateTime(allow_none=True)
    arrived_dt = fields.DateTime(allow_none=True)
    finished_dt = fields.DateTime(allow_none=True)
    returned_dt = fields.DateTime(allow_none=True)
    recalled_dt = fields.DateTime(allow_none=True)
    reported = fields.Function(lambda t: t.report is not None)


class FormedOut(TeamOut):
    warnings = fields.List(fields.String())


class DispatchIn(Schema):
    transport = fields.String(load_default="walk", validate=validate.OneOf(m.TRANSPORT))


class IncidentIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(m.INCIDENT_KINDS))
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    severity = fields.String(load_default="minor", validate=validate.OneOf(m.SEVERITIES))
    volunteer_id = id_field(load_default=None)


class ReportIn(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(m.OUTCOMES))
    remaining_work = fields.String(load_default=None, validate=validate.Length(max=4000))
    people_next = Whole(load_default=None, validate=validate.Range(1, 500))
    requester_situation = fields.String(load_default=None, validate=validate.Length(max=4000))
    notes = fields.String(load_default=None, validate=validate.Length(max=4000))
    incidents = fields.List(fields.Nested(IncidentIn), load_default=list)


class ReportOut(Schema):
    id = fields.Integer()
    team_id = fields.Integer()
    outcome = fields.String()
    remaining_work = fields.String(allow_none=True)
    people_next = fields.Integer(allow_none=True)
    reported_by = fields.String()
    reported_dt = fields.DateTime()
    need_status = fields.String(attribute="team.need.status")


class RecallIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class IncidentOut(Schema):
    id = fields.Integer()
    team_id = fields.Integer(allow_none=True)
    volunteer_id = fields.Integer(allow_none=True)
    kind = fields.String()
    severity = fields.String()
    description = fields.String()
    reported_dt = fields.DateTime()


class AvailableOut(Schema):
    """A checked-in volunteer free for a team: what a coordinator needs to pick them."""

    volunteer_id = fields.Integer(attribute="volunteer.id")
    number = fields.String(attribute="volunteer.number")
    name = fields.String(attribute="volunteer.name")
    kana = fields.String(attribute="volunteer.kana")
    group = fields.String(attribute="volunteer.group.name", allow_none=True)
    headcount = fields.Integer()
    skills = fields.List(fields.String(), attribute="volunteer.skills")
    vehicle = fields.String(attribute="volunteer.vehicle")
    site_id = fields.Integer()
    checked_in_dt = fields.DateTime()
    days_active = fields.Integer(metadata={"description": "Days checked in before today"})
