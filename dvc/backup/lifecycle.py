"""The data lifecycle: personal data of a closed operation is removed after a set period.

What goes: volunteers' names, kana, phones, email, emergency contacts, home municipality, exact
birth year (kept to the decade) and codes; survivors' names, phones and addresses; every free
text (descriptions, survey and report notes, remaining work, incidents, equipment notes, site
and shelter contacts, the day's notes); health answers; photos (files and rows); need points
(rounded to 0.001°, about 100 m) and the event payload fields that carry any of these.
What stays: every row, id, status, category, district, site, date, headcount, prefecture,
skill and flag, so the daily reports and the open counts still compute from the same tables.
Staff accounts and the audit trail's actors (staff usernames, `volunteer:<id>`) stay: they
name no survivor, and who looked at a record stays answerable after the record is anonymous.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import String, cast, delete, literal, select, update

from dvc.core import idempotency
from dvc.core.clock import wall_now
from dvc.core.events import Event, log_event
from dvc.extensions import db
from dvc.needs.models import Need, NeedPhoto, Survey
from dvc.operations.models import Operation
from dvc.shelters.models import Shelter
from dvc.sites.models import Site
from dvc.teams.models import ActivityReport, Incident, Team
from dvc.volunteers.models import CheckIn, Volunteer, VolunteerCode, VolunteerGroup

PURGED_KIND = "operation.purged"
# 3 decimals of a degree: about 110 m north-south and 90 m east-west in Japan.
POINT_DECIMALS = 3
# Payload keys whose values are free text typed by staff (a reason may quote a survivor).
FREE_TEXT_KEYS = {"reason", "note", "notes", "description", "remaining_work"}
POINT_KEYS = {"from", "to"}


@dataclass
class Purge:
    """What a purge changed (or, in a dry run, would change) in one operation."""

    operation_id: int
    name: str
    closed_dt: datetime
    counts: dict[str, int] = field(default_factory=dict)


def due_for_purge(moment: datetime, days: int) -> list[Operation]:
    """Return closed operations whose period has passed and whose data is not yet purged."""
    purged = select(Event.operation_id).where(Event.kind == PURGED_KIND,
                                              Event.operation_id.is_not(None))
    return list(db.session.scalars(select(Operation).where(
        Operation.status == "closed", Operation.closed_dt.is_not(None),
        Operation.closed_dt <= moment - timedelta(days=days),
        Operation.id.not_in(purged)).order_by(Operation.id)))


def purge_operation(operation: Operation, *, actor: str) -> Purge:
    """Remove the personal data of a closed operation, keeping its anonymous records."""
    if operation.status != "closed":
        raise ValueError(f"operation {operation.id} is open: only closed operations are purged")
    op_id = operation.id
    result = Purge(op_id, operation.name, operation.closed_dt)
    # The exact values removed, to find them again wherever an event payload copied them.
    secrets = _personal_values(op_id)
    counts = result.counts
    counts["volunteers"] = _volunteers(op_id)
    counts["codes"] = db.session.execute(delete(VolunteerCode).where(
        VolunteerCode.volunteer_id.in_(_ids(Volunteer, op_id)))).rowcount
    counts["groups"] = _update(VolunteerGroup, VolunteerGroup.operation_id == op_id,
                               name="", member_names=None)
    counts["checkins"] = _update(CheckIn, CheckIn.operation_id == op_id, health={})
    counts["photos"] = _photos(op_id)
    counts["needs"] = _needs(op_id)
    need_ids = _ids(Need, op_id)
    counts["surveys"] = _update(Survey, Survey.need_id.in_(need_ids), surveyor="", tools=None,
                                hazards=None, notes=None)
    team_ids = _ids(Team, op_id)
    counts["reports"] = _update(ActivityReport, ActivityReport.team_id.in_(team_ids),
                                remaining_work=None, requester_situation=None, notes=None)
    counts["incidents"] = _update(Incident, Incident.operation_id == op_id, description="")
    counts["sites"] = _update(Site, Site.operation_id == op_id, staff=None)
    counts["shelters"] = _update(Shelter, Shelter.operation_id == op_id, contact=None)
    counts["free_text"] = _other_free_text(op_id)
    counts["events"] = _events(op_id, secrets)
    # Stored API answers (idempotency keys) may copy personal data; all past their retry
    # window go (they are kept per user, not per operation).
    counts["stored_answers"] = idempotency.forget_keys(wall_now() - idempotency.KEEP)
    db.session.flush()
    log_event(PURGED_KIND, actor=actor, operation_id=op_id, subject=operation,
              payload={"closed_dt": operation.closed_dt.isoformat(), **counts})
    return result


def purge_due(moment: datetime, days: int, *, actor: str) -> list[Purge]:
    """Purge every closed operation whose period has passed; return what was done."""
    return [purge_operation(op, actor=actor) for op in due_for_purge(moment, days)]


# --- one table at a time ----------------------------------------------------------------------

def _ids(model, op_id: int):
    return select(model.id).where(model.operation_id == op_id)


def _update(model, where, **values) -> int:
    return db.session.execute(update(model).where(where).values(**values)
                              .execution_options(synchronize_session=False)).rowcount


def _volunteers(op_id: int) -> int:
    # The unique keys (phone, name and birth year) must stay unique: each gets its own id.
    anonymous = literal("purged:", String) + cast(Volunteer.id, String(12))
    return _update(Volunteer, Volunteer.operation_id == op_id, name="", kana="",
                   name_key=anonymous, phone="", phone_key=anonymous, email=None,
                   municipality="", birth_year=(Volunteer.birth_year // 10) * 10,
                   emergency_name="", emergency_phone="", insurance_council=None)


def _photos(op_id: int) -> int:
    photos = db.session.execute(select(NeedPhoto.id, NeedPhoto.filename).join(Need).where(
        Need.operation_id == op_id)).all()
    folder = Path(current_app.config["UPLOAD_DIR"]) / "needs"
    for _id, filename in photos:
        (folder / Path(filename).name).unlink(missing_ok=True)
    db.session.execute(delete(NeedPhoto).where(NeedPhoto.id.in_([p.id for p in photos])))
    return len(photos)


def _needs(op_id: int) -> int:
    count = _update(Need, Need.operation_id == op_id, requester_name="", requester_kana="",
                    name_key="", phone=None, phone2=None, phone_key=None, phone2_key=None,
                    address="", description="", equipment_wanted=None, remaining_work=None)
    points = db.session.execute(select(Need.id, Need.lat, Need.lon).where(
        Need.operation_id == op_id, Need.lat.is_not(None))).all()
    if points:
        db.session.execute(update(Need), [
            {"id": i, "lat": round(lat, POINT_DECIMALS), "lon": round(lon, POINT_DECIMALS)}
            for i, lat, lon in points])
    return count


def _other_free_text(op_id: int) -> int:
    """Clear free text of tables this module does not import (the day's notes, equipment)."""
    changed = 0
    # The day's notes (daily_note) belong to the reports package; found by name, not imported.
    for table_name, column, empty in (("daily_note", "text", ""), ("movement", "note", None)):
        table = db.metadata.tables.get(table_name)
        if table is not None and column in table.c:
            changed += db.session.execute(update(table).where(
                table.c.operation_id == op_id).values({column: empty})).rowcount
    return changed


def _personal_values(op_id: int) -> set[str]:
    """Return the personal values of an operation as stored, to find copies of them."""
    rows = [
        select(Volunteer.name, Volunteer.kana, Volunteer.phone, Volunteer.phone_key,
               Volunteer.email, Volunteer.emergency_name, Volunteer.emergency_phone)
        .where(Volunteer.operation_id == op_id),
        select(Need.requester_name, Need.requester_kana, Need.phone, Need.phone2,
               Need.phone_key, Need.phone2_key, Need.address).where(Need.operation_id == op_id),
        select(VolunteerGroup.name, VolunteerGroup.member_names)
        .where(VolunteerGroup.operation_id == op_id),
    ]
    values = set()
    for query in rows:
        for row in db.session.execute(query):
            values.update(v.strip() for v in row if isinstance(v, str) and len(v.strip()) >= 2)
    return values


def _events(op_id: int, personal: set[str]) -> int:
    """Scrub event payloads: free text, need points, and any copied personal value."""
    changed = []
    query = select(Event.id, Event.kind, Event.payload).where(Event.operation_id == op_id)
    for event_id, kind, payload in db.session.execute(query.execution_options(yield_per=1000)):
        clean = _scrub(payload or {}, kind, personal)
        if clean != payload:
            changed.append({"id": event_id, "payload": clean})
    for start in range(0, len(changed), 1000):
        db.session.execute(update(Event), changed[start:start + 1000])
    return len(changed)


def _scrub(payload: dict, kind: str, personal: set[str]) -> dict:
    clean = {}
    for key, value in payload.items():
        if key in FREE_TEXT_KEYS and isinstance(value, str) and value not in _CODES:
            value = None
        elif kind == "need.moved" and key in POINT_KEYS and isinstance(value, list):
            value = [None if v is None else round(v, POINT_DECIMALS) for v in value]
        clean[key] = _scrub_value(value, personal)
    return clean


# Reasons the code itself writes (not typed by anyone): kept, the reports may count them.
_CODES = {"merged", "survey"}


def _scrub_value(value, personal: set[str]):
    # Exact values only: a payload holds ids and codes, and free text is cleared by its key;
    # a substring search over every name of a 50,000-volunteer response would take hours.
    if isinstance(value, str):
        return None if value.strip() in personal else value
    if isinstance(value, list):
        return [_scrub_value(v, personal) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_value(v, personal) for k, v in value.items()}
    return value

