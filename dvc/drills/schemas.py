"""API shapes for drills."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from dvc.drills.models import MAX_SPEED, MIN_SPEED

ACTIONS = ("start", "pause", "resume", "speed", "jump", "end")


class DrillIn(Schema):
    scenario = fields.String(required=True, validate=validate.Length(min=1, max=200),
                             metadata={"description": "A shipped scenario's name (drills/NAME.yaml)"})
    seed = fields.Integer(load_default=None, validate=validate.Range(0, 2**31 - 1))
    speed = fields.Float(load_default=None, validate=validate.Range(MIN_SPEED, MAX_SPEED))
    name = fields.String(load_default=None, validate=validate.Length(max=200))


class ClockIn(Schema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    speed = fields.Float(load_default=None, validate=validate.Range(MIN_SPEED, MAX_SPEED))
    to = fields.AwareDateTime(load_default=None,
                              metadata={"description": "Scenario time to jump to (ISO 8601)"})


class AckIn(Schema):
    desk = fields.String(required=True, validate=validate.Length(min=1, max=40))


class DeskQuery(Schema):
    desk = fields.String(load_default=None, validate=validate.Length(max=40))


class ExportQuery(Schema):
    day = fields.Date(load_default=None, metadata={"description": "Service day (default: the last)"})


class ReplayIn(Schema):
    day = fields.Date(load_default=None)
    speed = fields.Float(load_default=None, validate=validate.Range(MIN_SPEED, MAX_SPEED))


class ForkIn(Schema):
    at = fields.AwareDateTime(required=True,
                              metadata={"description": "Scenario time to hand control over"})


# --- answers (documented; the views return plain dicts) -------------------------------------

class StateOut(Schema):
    operation_id = fields.Integer()
    scenario = fields.String()
    title = fields.String()
    status = fields.String(metadata={"description": "ready, running, paused or ended"})
    speed = fields.Float()
    now = fields.String(metadata={"description": "The drill's scenario time (UTC, ISO 8601)"})
    start = fields.String()
    end = fields.String()
    timezone = fields.String()
    power_out = fields.List(fields.Integer(), metadata={"description": "Sites without power"})
    next_inject = fields.Dict(allow_none=True)
    desks = fields.List(fields.Dict())


class TickOut(StateOut):
    delivered = fields.Integer(metadata={"description": "Deliveries made by this call"})
    queue = fields.Integer(metadata={"description": "Volunteers waiting at reception"})


class MessagesOut(Schema):
    messages = fields.List(fields.Dict(), metadata={"description": "Newest first; no notes"})


class AckOut(Schema):
    inject = fields.Integer()
    desk = fields.String()
    new = fields.Boolean()


class InjectStatusOut(Schema):
    inject = fields.Integer()
    status = fields.String()


class TimelineOut(Schema):
    injects = fields.List(fields.Dict(), metadata={"description": "With controllers' notes"})


class MetricsOut(Schema):
    as_of = fields.String()
    metrics = fields.Dict()
    ratings = fields.List(fields.Dict())
