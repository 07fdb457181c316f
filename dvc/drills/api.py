"""JSON API for drills: start one, move its clock, deliver, acknowledge, watch the metrics."""
from __future__ import annotations

from flask import Response
from flask_login import current_user

from dvc.auth.access import actor_name
from dvc.drills import board
from dvc.drills import operations as ops
from dvc.drills.record import export_scenario
from dvc.drills.schemas import (AckIn, AckOut, ClockIn, DeskQuery, DrillIn, ExportQuery, ForkIn,
                                InjectStatusOut, MessagesOut, MetricsOut, ReplayIn, StateOut,
                                TickOut, TimelineOut)
from dvc.extensions import ApiBlueprint
from dvc.operations.operations import get_operation

bp = ApiBlueprint("drills_api", __name__, url_prefix="/api/v1",
                  description="Drills (訓練): scenarios replayed on a virtual clock")
# Who may call what: dvc/auth/matrix.py (the trainer drives; every desk plays).


@bp.route("/drills", methods=["POST"])
@bp.arguments(DrillIn)
@bp.alt_response(201, schema=StateOut, success=True, description="The new drill")
def post_drill(data):
    """Start a drill from a shipped scenario: a new operation of kind drill, clock at its start."""
    drill = ops.start_drill(ops.shipped_scenario(data["scenario"]), actor=actor_name(),
                            seed=data["seed"], speed=data["speed"], name=data["name"])
    ops.give_to_creator(drill, current_user)
    return board.state(drill), 201


@bp.route("/operations/<int:op_id>/drill", methods=["GET"])
@bp.alt_response(200, schema=StateOut, success=True, description="The drill")
def get_state(op_id):
    """The drill's clock and status."""
    return board.state(ops.get_drill(op_id))


@bp.route("/operations/<int:op_id>/drill/tick", methods=["POST"])
@bp.alt_response(200, schema=TickOut, success=True, description="The drill after delivering")
def post_tick(op_id):
    """Deliver what is due now (every open drill page calls this every few seconds)."""
    drill = ops.get_drill(op_id)
    delivered = ops.tick(drill)
    return {**board.state(drill), "delivered": len(delivered),
            "queue": board.queue_length(drill)}


@bp.route("/operations/<int:op_id>/drill/clock", methods=["POST"])
@bp.arguments(ClockIn)
@bp.alt_response(200, schema=StateOut, success=True, description="The drill")
def post_clock(data, op_id):
    """Start, pause, resume, change speed (1x-600x), jump forward, or end the drill."""
    drill = ops.get_drill(op_id)
    ops.control_clock(drill, data["action"], speed=data["speed"], to=data["to"],
                      actor=actor_name())
    ops.tick(drill)
    return board.state(drill)


@bp.route("/operations/<int:op_id>/drill/messages", methods=["GET"])
@bp.arguments(DeskQuery, location="query")
@bp.alt_response(200, schema=MessagesOut, success=True, description="Messages")
def get_messages(args, op_id):
    """Delivered messages for a desk (or every desk), newest first; no controller notes."""
    return {"messages": board.messages(ops.get_drill(op_id), args["desk"])}


@bp.route("/operations/<int:op_id>/drill/injects/<int:number>/acknowledge", methods=["POST"])
@bp.arguments(AckIn)
@bp.alt_response(201, schema=AckOut, success=True, description="Acknowledged")
@bp.alt_response(200, schema=AckOut, description="Already acknowledged by this desk")
def post_ack(data, op_id, number):
    """A desk acknowledges a delivered message (a repeat changes nothing)."""
    new = ops.acknowledge_inject(ops.get_drill(op_id), number, data["desk"], actor=actor_name())
    return {"inject": number, "desk": data["desk"], "new": new}, 201 if new else 200


@bp.route("/operations/<int:op_id>/drill/injects/<int:number>/skip", methods=["POST"])
@bp.alt_response(200, schema=InjectStatusOut, success=True, description="Skipped")
def post_skip(op_id, number):
    """Leave out an inject not delivered yet."""
    return _trainer_choice(ops.skip_inject, op_id, number, "skipped")


@bp.route("/operations/<int:op_id>/drill/injects/<int:number>/release", methods=["POST"])
@bp.alt_response(200, schema=InjectStatusOut, success=True, description="Delivered")
def post_release(op_id, number):
    """Deliver an inject now instead of at its time (fire next)."""
    return _trainer_choice(ops.release_inject, op_id, number, "delivered")


def _trainer_choice(choose, op_id: int, number: int, status: str) -> dict:
    choose(ops.get_drill(op_id), number, actor=actor_name())
    return {"inject": number, "status": status}


@bp.route("/operations/<int:op_id>/drill/timeline", methods=["GET"])
@bp.alt_response(200, schema=TimelineOut, success=True, description="Timeline")
def get_timeline(op_id):
    """Every inject with its delivery, acknowledgements and response time (with notes)."""
    return {"injects": board.timeline(ops.get_drill(op_id))}


@bp.route("/operations/<int:op_id>/drill/metrics", methods=["GET"])
@bp.alt_response(200, schema=MetricsOut, success=True, description="Metrics")
def get_metrics(op_id):
    """Metrics so far and a suggested P/S/M/U rating per objective."""
    return board.live_metrics(ops.get_drill(op_id))


@bp.route("/operations/<int:op_id>/scenario", methods=["GET"])
@bp.arguments(ExportQuery, location="query")
@bp.doc(responses={"200": {"description": "The scenario file (YAML)", "content": {
    "application/yaml": {"schema": {"type": "object", "description":
                                    "A scenario: dvc/drills/scenario.schema.json"}}}}})
def get_scenario(args, op_id):
    """Export a day of any operation as a scenario file (fictional names, moved points)."""
    text = export_scenario(get_operation(op_id), args["day"])
    return Response(text, mimetype="application/yaml", headers={
        "Content-Disposition": f"attachment; filename=recorded-{op_id}.yaml"})


@bp.route("/operations/<int:op_id>/replay", methods=["POST"])
@bp.arguments(ReplayIn)
@bp.alt_response(201, schema=StateOut, success=True, description="The new drill")
def post_replay(data, op_id):
    """Replay a recorded day of an operation as a new drill."""
    source = get_operation(op_id)
    drill = ops.start_drill(export_scenario(source, data["day"]), actor=actor_name(),
                            speed=data["speed"])
    drill.source_operation_id = source.id
    ops.give_to_creator(drill, current_user)
    return board.state(drill), 201


@bp.route("/operations/<int:op_id>/drill/fork", methods=["POST"])
@bp.arguments(ForkIn)
@bp.alt_response(201, schema=StateOut, success=True, description="The fork")
def post_fork(data, op_id):
    """Copy a drill up to a time, then hand live control to the trainees from there."""
    fork = ops.fork_drill(ops.get_drill(op_id), data["at"], actor=actor_name())
    ops.give_to_creator(fork, current_user)
    return board.state(fork), 201
