"""JSON API for registration, code lookup and check-in (the reception kiosk uses it)."""
from __future__ import annotations

from flask import current_app, request, url_for
from flask_babel import gettext as _

from dvc.auth.access import actor_name, audited
from dvc.core.context import today
from dvc.core.errors import Invalid, NotFound
from dvc.extensions import ApiBlueprint, db
from dvc.operations.operations import get_operation
from dvc.volunteers import operations as ops
from dvc.volunteers import qr
from dvc.volunteers.models import Volunteer
from dvc.volunteers.schemas import (CheckInIn, CheckInOut, CheckInQuery, DecodeOut, LookupIn,
                                    LookupOut, RegisteredOut, RegistrationIn, SearchQuery,
                                    VolunteerOut)

bp = ApiBlueprint("volunteers_api", __name__, url_prefix="/api/v1",
                  description="Volunteer registration, codes and check-in")


def code_links(token: str) -> dict:
    """Return the URLs of a volunteer's own page and QR images."""
    return {
        "page_url": url_for("volunteers.my_page", token=token, _external=True),
        "qr_png_url": url_for("volunteers.qr_png", token=token, _external=True),
        "qr_svg_url": url_for("volunteers.qr_svg", token=token, _external=True),
    }


def _registered(volunteer: Volunteer, token: str) -> dict:
    return {"id": volunteer.id, "number": volunteer.number, "code": token, **code_links(token)}


def _volunteer_of(operation, volunteer_id: int) -> Volunteer:
    volunteer = db.session.get(Volunteer, volunteer_id)
    if volunteer is None or volunteer.operation_id != operation.id:
        raise NotFound(_("No such volunteer."), code="unknown_volunteer")
    return volunteer


@bp.route("/operations/<int:op_id>/volunteers", methods=["POST"])
@bp.arguments(RegistrationIn)
@bp.response(201, RegisteredOut)
def post_volunteer(data, op_id):
    """Pre-register a volunteer; the answer carries their code and QR links."""
    volunteer, token = ops.register_volunteer(
        get_operation(op_id), ops.Registration(**data), via="pre", actor="public")
    return _registered(volunteer, token)


@bp.route("/operations/<int:op_id>/volunteers", methods=["GET"])
@bp.arguments(SearchQuery, location="query")
@bp.response(200, VolunteerOut(many=True))
def search_volunteers(query, op_id):
    """Find volunteers by name, kana or phone (for those without their code)."""
    return ops.search_volunteers(get_operation(op_id), query["q"])


@bp.route("/operations/<int:op_id>/volunteers/<int:volunteer_id>/code", methods=["POST"])
@bp.response(201, RegisteredOut)
def reissue_code(op_id, volunteer_id):
    """Revoke a lost code and issue a new one."""
    volunteer = _volunteer_of(get_operation(op_id), volunteer_id)
    return _registered(volunteer, ops.reissue_code(volunteer, actor=actor_name()))


def _card(volunteer: Volunteer) -> dict:
    return {"volunteer": volunteer, "insured": ops.insured_on(volunteer, today()),
            "checkin": ops.todays_checkin(volunteer),
            "health_questions": list(current_app.config["HEALTH_QUESTIONS"])}


@bp.route("/operations/<int:op_id>/lookup", methods=["POST"])
@bp.arguments(LookupIn)
@bp.response(200, LookupOut)
def lookup(data, op_id):
    """Read a scanned code: who it is, their insurance, and whether they are already in today.

    A POST, so that codes never end up in URLs and access logs."""
    return _card(ops.resolve_code(get_operation(op_id), data["code"]))


@bp.route("/operations/<int:op_id>/volunteers/<int:volunteer_id>/card", methods=["GET"])
@bp.response(200, LookupOut)
@audited
def volunteer_card(op_id, volunteer_id):
    """The same card as a scan gives, for a volunteer found by search; who opened it is logged
    (a scan is the volunteer showing their own code at the desk, and is not)."""
    volunteer = _volunteer_of(get_operation(op_id), volunteer_id)
    ops.log_view(volunteer, actor=actor_name())
    return _card(volunteer)


@bp.route("/operations/<int:op_id>/checkins", methods=["POST"])
@bp.arguments(CheckInIn)
@bp.response(201, CheckInOut)
@bp.alt_response(200, schema=CheckInOut, description="Already checked in today: the same check-in")
def post_checkin(data, op_id):
    """Check a volunteer in for today: 201 when new, 200 with the existing one on a repeat."""
    operation = get_operation(op_id)
    if data.get("code"):
        volunteer = ops.resolve_code(operation, data["code"])
    elif data.get("volunteer_id"):
        volunteer = _volunteer_of(operation, data["volunteer_id"])
    else:
        raise Invalid(_("Scan a code or choose a volunteer."), fields={"code": "required"})
    checkin, created = ops.check_in(
        operation, volunteer, site_id=data["site_id"], health_ok=data["health_ok"],
        health=data["health"], insurance_enrolled_now=data["insurance_enrolled_now"],
        headcount=data["headcount"], method=data["method"], actor=actor_name())
    return checkin, (201 if created else 200)


@bp.route("/operations/<int:op_id>/checkins", methods=["GET"])
@bp.arguments(CheckInQuery, location="query")
@bp.response(200, CheckInOut(many=True))
def list_checkins(query, op_id):
    """List a day's check-ins (today by default)."""
    return ops.checkins_on(get_operation(op_id), query["date"] or today(), query["site_id"])


@bp.route("/decode", methods=["POST"])
@bp.response(200, DecodeOut)
def decode(): 
    """Read a QR code from a camera frame (for browsers without BarcodeDetector)."""
    upload = request.files.get("image")
    if upload is None:
        raise Invalid(_("Send a camera image."), fields={"image": "required"})
    return {"text": qr.decode_image(upload.read())}
