"""JSON API for drills: start one, move its clock, deliver, acknowledge, watch the metrics."""
from __future__ import annotations

from flask_login import current_user
from flask_smorest import Blueprint

from dvc.auth.access import actor_name
from dvc.drills import board
from dvc.drills import operations as ops
from dvc.drills.schemas import AckIn, ClockIn, DeskQuery, DrillIn

bp = Blueprint("drills_api", __name__, url_prefix="/api/v1",
               description="Drills (訓練): scenarios replayed on a virtual clock")
# Who may call what: dvc/auth/matrix.py (the trainer drives; every desk plays).


@bp.route("/drills", methods=["POST"])
@bp.arguments(DrillIn)
def post_drill(data):
    """Start a drill from a shipped scenario: a new operation of kind drill, clock at its start."""
    drill = ops.start_drill(ops.read_scenario(data["scenario"]), actor=actor_name(),
                            seed=data["seed"], speed=data["speed"], name=data["name"])
    ops.give_to_creator(drill, current_user)
    return board.state(drill), 201


@bp.route("/operations/<int:op_id>/drill", methods=["GET"])
def get_state(op_id):
    """The drill's clock and status."""
    return board.state(ops.get_drill(op_id))


@bp.route("/operations/<int:op_id>/drill/tick", methods=["POST"])
def post_tick(op_id):
    """Deliver what is due now (every open drill page calls this every few seconds)."""
    drill = ops.get_drill(op_id)
    delivered = ops.tick(drill)
    return {**board.state(drill), "delivered": len(delivered),
            "queue": board.queue_length(drill)}


@bp.route("/operations/<int:op_id>/drill/clock", methods=["POST"])
@bp.arguments(ClockIn)
def post_clock(data, op_id):
    """Start, pause, resume, change speed (1x-600x), jump forward, or end the drill."""
    drill = ops.get_drill(op_id)
    ops.control_clock(drill, data["action"], speed=data["speed"], to=data["to"],
                      actor=actor_name())
    ops.tick(drill)
    return board.state(drill)


@bp.route("/operations/<int:op_id>/drill/messages", methods=["GET"])
@bp.arguments(DeskQuery, location="query")
def get_messages(args, op_id):
    """Delivered messages for a desk (or every desk), newest first; no controller notes."""
    return {"messages": board.messages(ops.get_drill(op_id), args["desk"])}


@bp.route("/operations/<int:op_id>/drill/injects/<int:number>/acknowledge", methods=["POST"])
@bp.arguments(AckIn)
def post_ack(data, op_id, number):
    """A desk acknowledges a delivered message (a repeat changes nothing)."""
    new = ops.acknowledge_inject(ops.get_drill(op_id), number, data["desk"], actor=actor_name())
    return {"inject": number, "desk": data["desk"], "new": new}, 201 if new else 200


@bp.route("/operations/<int:op_id>/drill/injects/<int:number>/skip", methods=["POST"])
def post_skip(op_id, number):
    """Leave out an inject not delivered yet."""
    drill = ops.get_drill(op_id)
    ops.skip_inject(drill, number, actor=actor_name())
    return {"inject": number, "status": "skipped"}


@bp.route("/operations/<int:op_id>/drill/injects/<int:number>/release", methods=["POST"])
def post_release(op_id, number):
    """Deliver an inject now instead of at its time (fire next)."""
    drill = ops.get_drill(op_id)
    ops.release_inject(drill, number, actor=actor_name())
    return {"inject": number, "status": "delivered"}


@bp.route("/operations/<int:op_id>/drill/timeline", methods=["GET"])
def get_timeline(op_id):
    """Every inject with its delivery, acknowledgements and response time (with notes)."""
    return {"injects": board.timeline(ops.get_drill(op_id))}


@bp.route("/operations/<int:op_id>/drill/metrics", methods=["GET"])
def get_metrics(op_id):
    """Metrics so far and a suggested P/S/M/U rating per objective."""
    return board.live_metrics(ops.get_drill(op_id))
