"""API shapes for suggested teams."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from dvc.core.schemas import id_field
from dvc.teams.schemas import FormedOut, TeamIn


class SuggestionsQuery(Schema):
    site_id = id_field(load_default=None)


class ProposalOut(Schema):
    need_id = fields.Integer()
    member_ids = fields.List(fields.Integer())
    leader_id = fields.Integer()
    headcount = fields.Integer()
    reason = fields.String()


class SuggestionsOut(Schema):
    teams = fields.List(fields.Nested(ProposalOut))
    unassigned_volunteer_ids = fields.List(fields.Integer())
    unserved_need_ids = fields.List(fields.Integer())
    objective = fields.Float()
    seconds = fields.Float()


class AcceptIn(Schema):
    teams = fields.List(fields.Nested(TeamIn), required=True,
                        validate=validate.Length(min=1, max=2000))


class RefusedOut(Schema):
    need_id = fields.Integer()
    error = fields.String()
    message = fields.String()
    volunteer_ids = fields.List(fields.Integer())


class AcceptOut(Schema):
    formed = fields.List(fields.Nested(FormedOut))
    refused = fields.List(fields.Nested(RefusedOut))
