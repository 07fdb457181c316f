"""API shapes for the public daily figures (open data): counts only."""
from __future__ import annotations

from marshmallow import Schema, fields


class DailyStatsQuery(Schema):
    date = fields.Date(load_default=None, metadata={
        "description": "The local day (YYYY-MM-DD); today, or the closing day, when left out."})


class OperationRef(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String(metadata={"description": "real, or drill (a training exercise)"})
    prefecture = fields.String(allow_none=True)
    municipality = fields.String(allow_none=True)


class SiteCount(Schema):
    site_id = fields.Integer()
    name = fields.String()
    kind = fields.String(metadata={"description": "main or satellite"})
    people = fields.Integer()


class VolunteerCounts(Schema):
    people = fields.Integer(metadata={"description": "People checked in (each check-in's "
                                                     "headcount); since opening: people-days"})
    new = fields.Integer(metadata={"description": "Checked in for the first time in this "
                                                  "operation; since opening: different people"})
    repeat = fields.Integer()
    individuals = fields.Integer()
    in_groups = fields.Integer()
    groups = fields.Integer(metadata={"description": "Group check-ins (団体)"})
    in_prefecture = fields.Integer()
    out_of_prefecture = fields.Integer()
    by_site = fields.List(fields.Nested(SiteCount))


class NeedCounts(Schema):
    received = fields.Integer()
    surveyed = fields.Integer(metadata={"description": "Different needs with a site survey"})
    completed = fields.Integer()
    continuing = fields.Integer(metadata={"description": "Different needs a team reported "
                                                         "continuing (work left)"})
    cancelled = fields.Integer()
    referred = fields.Integer(metadata={"description": "Referred to specialist groups"})


class ActivityCounts(Schema):
    teams_dispatched = fields.Integer()
    people_dispatched = fields.Integer()
    people_hours = fields.Float()


class FigureColumn(Schema):
    volunteers = fields.Nested(VolunteerCounts)
    needs = fields.Nested(NeedCounts)
    activity = fields.Nested(ActivityCounts)


class DailyStatsOut(Schema):
    operation = fields.Nested(OperationRef)
    date = fields.Date()
    day_number = fields.Integer(metadata={"description": "The opening day is day 1"})
    complete = fields.Boolean(metadata={"description": "False while the day is going on"})
    as_of = fields.DateTime()
    day = fields.Nested(FigureColumn)
    since_opening = fields.Nested(FigureColumn)
    needs_waiting = fields.Integer(metadata={
        "description": "Needs still open (not completed, cancelled or referred) at the end "
                       "of the day"})
    needs_waiting_by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
