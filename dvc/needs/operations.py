"""Needs intake, duplicates, status changes, surveys and photos: where need state changes."""
from __future__ import annotations

import difflib
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from dvc.core.clock import local_day
from dvc.core.context import now
from dvc.core.errors import Conflict, Invalid, NotFound
from dvc.core.events import log_event
from dvc.core.geo import distance_m, in_japan
from dvc.core.images import ImageRefused, open_image
from dvc.districts.operations import district_rows, place_needs
from dvc.extensions import db
from dvc.needs.models import MANUAL, OPEN, PRIORITIES, TRANSITIONS, Need, NeedPhoto, Survey
from dvc.operations.models import Operation
from dvc.volunteers.operations import person_key, phone_key

DUPLICATE_RADIUS_M = 60
# A municipal centre works within a few tens of kilometres of its sites: a point farther from
# all of them is a typing mistake (swapped digits, a point dropped in the sea off the coast).
AREA_RADIUS_M = 100_000
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PHOTO_BYTES = 8 * 1024 * 1024


@dataclass
class NeedInput:
    """What intake staff record on the phone (all but the requester and address optional)."""

    requester_name: str
    address: str
    category: str
    requester_kana: str = ""
    phone: str | None = None
    phone2: str | None = None
    lat: float | None = None
    lon: float | None = None
    district: str | None = None
    description: str = ""
    damage: str = "unknown"
    people_min: int = 1
    people_max: int = 5
    est_hours: float | None = None
    skills: list[str] = field(default_factory=list)
    vehicle_needed: bool = False
    equipment_wanted: str | None = None
    priority: str = "normal"
    elderly: bool = False
    disabled: bool = False
    living_alone: bool = False
    source: str = "phone"


@dataclass(frozen=True)
class Duplicate:
    need: Need
    reasons: tuple[str, ...]  # "phone", "name", "nearby"


def _check_input(data: NeedInput) -> None:
    fields = {}
    if not data.requester_name.strip():
        fields["requester_name"] = _("Enter the requester's name.")
    if not data.address.strip():
        fields["address"] = _("Enter the address.")
    if (data.lat is None) != (data.lon is None):
        fields["lat"] = _("Give both latitude and longitude, or pick the point on the map.")
    elif data.lat is not None and not in_japan(data.lat, data.lon):
        fields["lat"] = _("This point is outside Japan: check the coordinates.")
    if not 1 <= data.people_min <= data.people_max:
        fields["people_max"] = _("People needed: the maximum must be at least the minimum (1 or more).")
    if data.est_hours is not None and not 0 < data.est_hours <= 24 * 14:
        fields["est_hours"] = _("Estimated hours must be more than 0.")
    for name in ("phone", "phone2"):
        value = getattr(data, name)
        if value and len(phone_key(value)) not in (10, 11):
            fields[name] = _("Enter a phone number of 10 or 11 digits.")
    if fields:
        raise Invalid(_("Some answers need fixing."), fields=fields)


def check_in_area(operation: Operation, lat: float | None, lon: float | None) -> None:
    """Refuse a point farther than AREA_RADIUS_M from every located site of the operation."""
    sites = [s for s in operation.sites if s.lat is not None and s.lon is not None]
    if lat is None or lon is None or not sites:
        return
    if all(distance_m(lat, lon, s.lat, s.lon) > AREA_RADIUS_M for s in sites):
        message = _("This point is more than %(km)d km from every site of this centre: check "
                    "the coordinates.", km=AREA_RADIUS_M // 1000)
        raise Invalid(_("Some answers need fixing."), fields={"lat": message})


def find_duplicates(operation: Operation, *, phone: str | None = None, phone2: str | None = None,
                    name: str = "", kana: str = "", lat: float | None = None,
                    lon: float | None = None, exclude_id: int | None = None) -> list[Duplicate]:
    """Return open needs that are likely the same household: same phone, similar name, nearby."""
    keys = {k for k in (phone_key(phone or ""), phone_key(phone2 or "")) if len(k) >= 10}
    candidates = db.session.scalars(select(Need).where(
        Need.operation_id == operation.id, Need.status.in_(OPEN), Need.id != (exclude_id or 0)))
    name_key = person_key(name, kana) if (name or kana) else None
    found = []
    for need in candidates:
        reasons = []
        if keys & {need.phone_key, need.phone2_key}:
            reasons.append("phone")
        if name_key and _similar_names(name_key, need.name_key):
            reasons.append("name")
        if lat is not None and lon is not None and need.lat is not None and \
                distance_m(lat, lon, need.lat, need.lon) <= DUPLICATE_RADIUS_M:
            reasons.append("nearby")
        if reasons:
            found.append(Duplicate(need, tuple(reasons)))
    return sorted(found, key=lambda d: (-len(d.reasons), d.need.id))[:10]


def _similar_names(a: str, b: str) -> bool:
    # partition: a "|" typed in a name, or a purged record's empty key, must not break this
    name_a, _sep, kana_a = a.partition("|")
    name_b, _sep, kana_b = b.partition("|")
    if (name_a and name_a == name_b) or (kana_a and kana_a == kana_b):
        return True
    return bool(kana_a and kana_b) and difflib.SequenceMatcher(None, kana_a, kana_b).ratio() >= 0.85


def create_need(operation: Operation, data: NeedInput, *, actor: str) -> Need:
    """Record a new need; its status starts at received."""
    if operation.status != "open":
        raise Conflict(_("This operation is closed."), code="operation_closed")
    _check_input(data)
    check_in_area(operation, data.lat, data.lon)
    moment = now()
    values = {k: v.strip() if isinstance(v, str) else v for k, v in vars(data).items()}
    need = Need(operation_id=operation.id, **values, name_key=person_key(data.requester_name,
                                                                         data.requester_kana),
                phone_key=phone_key(data.phone or "") or None,
                phone2_key=phone_key(data.phone2 or "") or None,
                status="received", received_dt=moment, status_dt=moment)
    need.skills = sorted(set(data.skills))
    place_needs(operation, [need])
    db.session.add(need)
    db.session.flush()
    log_event("need.received", actor=actor, operation_id=operation.id, subject=need,
              payload={"category": need.category, "priority": need.priority,
                       "source": need.source, "district": need.district})
    return need


def move_need(need: Need, lat: float, lon: float, *, actor: str) -> None:
    """Put the need's point somewhere else; its district and serving site follow."""
    if not in_japan(lat, lon):
        raise Invalid(_("Some answers need fixing."),
                      fields={"lat": _("This point is outside Japan: check the coordinates.")})
    operation = db.session.get(Operation, need.operation_id)
    check_in_area(operation, lat, lon)
    before = (need.lat, need.lon, need.district, need.site_id)
    need.lat, need.lon = lat, lon
    place_needs(operation, [need])
    log_event("need.moved", actor=actor, operation_id=need.operation_id, subject=need,
              payload={"from": list(before[:2]), "to": [lat, lon], "district": need.district,
                       "site_id": need.site_id, "place_check": need.place_check})


def add_call(need: Need, note: str, *, actor: str) -> None:
    """Add a repeat call from the same household to its existing need instead of a new one."""
    note = (note or "").strip()
    if note:
        stamp = local_day(now(), current_app.config["TIMEZONE"]).isoformat()
        need.description = f"{need.description}\n[{stamp}] {note}".strip()
    log_event("need.call_added", actor=actor, operation_id=need.operation_id, subject=need,
              payload={"note": bool(note)})


def lock_need(need: Need) -> str:
    """Hold the need's row until the commit and read it again (another desk may have changed
    it a moment ago); return the status this request had seen before. Two coordinators
    changing one need at once then take turns, on SQLite (the write lock) and PostgreSQL."""
    seen = need.status
    db.session.flush()
    db.session.refresh(need, with_for_update=True)
    return seen


def _changed_meanwhile(need: Need) -> Conflict:
    return Conflict(_("Someone else changed this need a moment ago: it is now “%(status)s”. "
                      "Check it and try again.", status=status_label(need.status)),
                    code="need_changed", data={"status": need.status})


def merge_needs(duplicate: Need, keep: Need, *, actor: str) -> None:
    """Close a duplicate record into the need that stays."""
    if duplicate.id == keep.id or duplicate.operation_id != keep.operation_id:
        raise Invalid(_("Choose two different needs of this operation."), fields={"keep": "same"})
    for need in sorted((duplicate, keep), key=lambda n: n.id):  # one lock order for all
        lock_need(need)
    if duplicate.status not in ("received", "survey", "ready", "on_hold"):
        raise Conflict(_("A need that has a team cannot be merged away."), code="need_busy")
    if duplicate.description:
        keep.description = f"{keep.description}\n{duplicate.description}".strip()
    duplicate.merged_into_id = keep.id
    _set_status(duplicate, "cancelled", actor=actor, reason="merged")
    log_event("need.merged", actor=actor, operation_id=keep.operation_id, subject=keep,
              payload={"duplicate_id": duplicate.id})


def _set_status(need: Need, to: str, *, actor: str, reason: str | None = None) -> None:
    if to not in TRANSITIONS[need.status]:
        raise Conflict(_("A need cannot go from “%(old)s” to “%(new)s”.", old=status_label(need.status),
                         new=status_label(to)), code="invalid_transition",
                       data={"status": need.status})
    old, need.status, need.status_dt = need.status, to, now()
    log_event("need.status_changed", actor=actor, operation_id=need.operation_id, subject=need,
              payload={"from": old, "to": to, "reason": reason})


def change_status(need: Need, to: str, *, actor: str, reason: str | None = None,
                  referred_to: str | None = None) -> None:
    """Change a need's status by hand; assignment and outcomes come from team operations."""
    if to not in MANUAL:
        raise Conflict(_("This status follows from the team's work and cannot be set by hand."),
                       code="invalid_transition", data={"status": need.status})
    if lock_need(need) != need.status:
        raise _changed_meanwhile(need)
    if need.status in ("assigned", "in_progress"):
        raise Conflict(_("This need has a team: change it through the team (undo the team, or "
                         "file its report)."), code="need_has_team", data={"status": need.status})
    if to == "referred":
        if not (referred_to or "").strip():
            raise Invalid(_("Name the specialist group it goes to."),
                          fields={"referred_to": "required"})
        need.referred_to = referred_to.strip()
    _set_status(need, to, actor=actor, reason=reason)


def advance_by_team(need: Need, to: str, *, actor: str, remaining_work: str | None = None) -> None:
    """Move a need as its team is formed, dispatched, reports or is disbanded."""
    if to == "continuing":
        need.remaining_work = remaining_work
    _set_status(need, to, actor=actor)


def record_survey(need: Need, *, surveyor: str, headcount: int, hours: float,
                  decision: str, actor: str, tools: str | None = None,
                  hazards: str | None = None, notes: str | None = None,
                  referred_to: str | None = None) -> Survey:
    """Record a site survey; its decision moves the need (dangerous work goes to specialists)."""
    fields = {}
    if headcount < 1:
        fields["headcount"] = _("At least 1 person.")
    if not 0 < hours <= 24 * 14:
        fields["hours"] = _("Estimated hours must be more than 0.")
    if fields:
        raise Invalid(_("Some answers need fixing."), fields=fields)
    lock_need(need)
    survey = Survey(need=need, surveyor=surveyor.strip(), surveyed_dt=now(), headcount=headcount,
                    hours=hours, tools=tools, hazards=hazards, decision=decision, notes=notes)
    db.session.add(survey)
    need.people_max = max(headcount, 1)
    need.people_min = min(need.people_min, need.people_max)
    need.est_hours = hours
    db.session.flush()
    log_event("need.surveyed", actor=actor, operation_id=need.operation_id, subject=need,
              payload={"survey_id": survey.id, "decision": decision, "headcount": headcount})
    target = {"ready": "ready", "specialist": "referred", "on_hold": "on_hold",
              "cancelled": "cancelled"}[decision]
    if need.status == "received":
        _set_status(need, "survey", actor=actor)
    if target == "referred":
        change_status(need, "referred", actor=actor, referred_to=referred_to or _("specialist group"))
    else:
        _set_status(need, target, actor=actor, reason="survey")
    return survey


def add_photo(need: Need, blob: bytes, *, actor: str, survey: Survey | None = None) -> NeedPhoto:
    """Store a photo under instance/ after checking that it really is an image of a sane size."""
    if len(blob) > MAX_PHOTO_BYTES:
        raise Invalid(_("The photo is larger than 8 MB."), fields={"photo": "too_large"})
    try:
        kind = open_image(blob, load=False).format
    except ImageRefused as err:
        if err.reason == "too_large":
            raise Invalid(_("The photo has too many pixels (at most 50 megapixels)."),
                          fields={"photo": "too_large"}) from None
        kind = None
    if kind not in PHOTO_TYPES:
        raise Invalid(_("Send a JPEG, PNG or WebP photo."), fields={"photo": "type"})
    name = f"{uuid.uuid4().hex}.{kind.lower()}"
    folder = Path(current_app.config["UPLOAD_DIR"]) / "needs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(blob)
    photo = NeedPhoto(need=need, survey_id=survey.id if survey else None, filename=name,
                      mimetype=PHOTO_TYPES[kind], size=len(blob), uploaded_dt=now())
    db.session.add(photo)
    db.session.flush()
    log_event("need.photo_added", actor=actor, operation_id=need.operation_id, subject=need,
              payload={"photo_id": photo.id})
    return photo


def photo_path(photo: NeedPhoto) -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "needs" / photo.filename


# --- reading --------------------------------------------------------------------------------

def get_need(need_id: int) -> Need:
    need = db.session.get(Need, need_id)
    if need is None:
        raise NotFound(_("No such need."), code="unknown_need")
    return need


def days_waiting(need: Need, today: date) -> int:
    return max(0, (today - local_day(need.received_dt, current_app.config["TIMEZONE"])).days)


def list_needs(operation: Operation, *, statuses=None, categories=None,
               districts=None) -> list[Need]:
    """Return needs, continuing ones first, then by priority and by how long they waited."""
    query = select(Need).where(Need.operation_id == operation.id)
    if statuses:
        query = query.where(Need.status.in_(statuses))
    if categories:
        query = query.where(Need.category.in_(categories))
    if districts:
        query = query.where(Need.district.in_(districts))
    needs = db.session.scalars(query).all()
    rank = {p: i for i, p in enumerate(PRIORITIES)}
    return sorted(needs, key=lambda n: (n.status != "continuing", rank[n.priority],
                                        n.received_dt, n.id))


def log_view(need: Need, *, actor: str) -> None:
    """Record who looked at a survivor's record (要配慮個人情報 is inside)."""
    log_event("need.viewed", actor=actor, operation_id=need.operation_id, subject=need)


def status_label(status: str) -> str:
    from dvc.needs.labels import STATUSES
    return str(STATUSES.get(status, status))


def need_history(need: Need) -> list:
    """Return the events about this need, oldest first (the pages' history and audit view)."""
    from dvc.core.events import Event
    return list(db.session.scalars(select(Event).where(
        Event.subject_type == "need", Event.subject_id == need.id).order_by(Event.id)))


def districts_in(operation: Operation) -> list[str]:
    """Return the operation's districts, or those already typed for its needs (intake hints)."""
    rows = district_rows(operation)
    if rows:
        return [r.name for r in rows]
    return sorted(d for d in db.session.scalars(select(Need.district).distinct().where(
        Need.operation_id == operation.id, Need.district.is_not(None))) if d)
