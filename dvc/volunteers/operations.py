"""Registration, codes and check-in: the only place volunteer state changes."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from dvc.core import codes
from dvc.core.context import now, today
from dvc.core.db import insert_unless_taken
from dvc.core.errors import Conflict, DomainError, Invalid, NotFound
from dvc.core.events import log_event
from dvc.extensions import db
from dvc.operations.models import Operation
from dvc.sites.models import Site
from dvc.volunteers.models import CheckIn, Volunteer, VolunteerCode, VolunteerGroup


@dataclass
class Registration:
    """What a volunteer tells us when registering (pre-registration or walk-in)."""

    name: str
    kana: str
    phone: str
    prefecture: str
    municipality: str
    birth_year: int
    emergency_name: str
    emergency_phone: str
    consent: bool
    email: str | None = None
    skills: list[str] = field(default_factory=list)
    vehicle: str = "none"
    insurance: str = "none"
    insurance_council: str | None = None
    insurance_date: date | None = None
    group_name: str | None = None
    group_size: int | None = None
    group_members: str | None = None
    language: str = "ja"


# --- normalisation -----------------------------------------------------------------------

def phone_key(phone: str) -> str:
    """Return the digits of a phone number in national form (+81 90... -> 090...)."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", phone or ""))
    if digits.startswith("81") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    return digits


def _katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def person_key(name: str, kana: str) -> str:
    """Return a key that is equal for the same name written with other widths or spaces."""
    def squash(s: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s or "")).casefold()
    return f"{squash(name)}|{_katakana(squash(kana))}"


# --- registration ------------------------------------------------------------------------

def _check_registration(reg: Registration, day: date) -> None:
    fields, year = {}, day.year
    if not reg.consent:
        fields["consent"] = _("Agree to the privacy terms to register.")
    if not 1900 < reg.birth_year <= year:
        fields["birth_year"] = _("Enter the year you were born, e.g. 1985.")
    if len(phone_key(reg.phone)) not in (10, 11):
        fields["phone"] = _("Enter a phone number of 10 or 11 digits.")
    if reg.insurance == "home" and not reg.insurance_council:
        fields["insurance_council"] = _("Enter the council where you enrolled.")
    # Insurance runs one fiscal year: a date in the future or years back is a typing mistake.
    if reg.insurance_date and reg.insurance_date > day:
        fields["insurance_date"] = _("The date you enrolled cannot be in the future.")
    elif reg.insurance_date and reg.insurance_date.year < year - 2:
        fields["insurance_date"] = _("Check the date you enrolled: the insurance covers one "
                                     "fiscal year (April to March).")
    if reg.group_name and not (reg.group_size and reg.group_size >= 2):
        fields["group_size"] = _("A group has at least 2 people.")
    if fields:
        raise Invalid(_("Some answers need fixing."), fields=fields)


def find_duplicate(operation: Operation, reg: Registration) -> Volunteer | None:
    """Return the volunteer this registration repeats (same phone, or same name and birth year)."""
    return db.session.scalar(
        select(Volunteer).where(
            Volunteer.operation_id == operation.id,
            or_(Volunteer.phone_key == phone_key(reg.phone),
                (Volunteer.name_key == person_key(reg.name, reg.kana))
                & (Volunteer.birth_year == reg.birth_year))))


def _duplicate_error() -> Conflict:
    return Conflict(_("You are already registered. Use the code you received; if you lost it, "
                      "ask reception to reissue it."), code="duplicate_registration")


def register_volunteer(operation: Operation, reg: Registration, *, via: str,
                       actor: str, code: str | None = None) -> tuple[Volunteer, str]:
    """Register a volunteer and return them with their new code (shown once, stored hashed);
    `code` is one pre-printed on a paper form (fallback pack), which becomes theirs."""
    _require_open(operation)
    _check_registration(reg, today())
    preprinted = _preprinted(operation, code) if code else None
    if find_duplicate(operation, reg):
        raise _duplicate_error()
    moment = now()
    group = None
    if reg.group_name:
        group = VolunteerGroup(operation_id=operation.id, name=reg.group_name.strip(),
                               size=reg.group_size, member_names=reg.group_members)
        db.session.add(group)
    volunteer = Volunteer(
        operation_id=operation.id, name=reg.name.strip(), kana=reg.kana.strip(),
        name_key=person_key(reg.name, reg.kana), phone=reg.phone.strip(),
        phone_key=phone_key(reg.phone), email=reg.email or None, prefecture=reg.prefecture,
        municipality=reg.municipality.strip(), birth_year=reg.birth_year,
        emergency_name=reg.emergency_name.strip(), emergency_phone=reg.emergency_phone.strip(),
        skills=sorted(set(reg.skills)), vehicle=reg.vehicle, insurance=reg.insurance,
        insurance_council=reg.insurance_council if reg.insurance == "home" else None,
        insurance_date=reg.insurance_date if reg.insurance == "home" else None,
        group=group, registered_via=via, language=reg.language, consent_dt=moment,
        created_dt=moment)
    try:
        with db.session.begin_nested():
            db.session.add(volunteer)
            db.session.flush()
            token = _add_code(volunteer, preprinted)
            db.session.flush()
    except IntegrityError:
        # Another kiosk registered the same person (or paper form) between our check and now.
        raise _duplicate_error() from None
    log_event("volunteer.registered", actor=actor, operation_id=operation.id, subject=volunteer,
              payload={"via": via, "group_id": group.id if group else None,
                       "headcount": group.size if group else 1,
                       **({"paper": True} if preprinted else {})})
    return volunteer, token


def _preprinted(operation: Operation, text: str) -> str:
    """Return a code pre-printed for this operation that nobody registered with yet."""
    try:
        token = codes.normalize(text)
    except codes.CodeError:
        token = None
    secret = current_app.config["SECRET_KEY"]
    if token is None or codes.preprinted_serial(secret, operation.id, token) is None:
        raise Invalid(_("This is not a pre-printed code of this centre."),
                      code="not_preprinted", fields={"code": "unknown"})
    if db.session.scalar(select(VolunteerCode.id).where(
            VolunteerCode.code_hash == codes.token_hash(token))):
        raise Conflict(_("This paper form's code is already registered. Check whether the form "
                         "was entered before."), code="code_taken")
    return token


def _add_code(volunteer: Volunteer, token: str | None = None) -> str:
    token = token or codes.new_token()
    db.session.add(VolunteerCode(volunteer_id=volunteer.id, code_hash=codes.token_hash(token),
                                 issued_dt=now()))
    return token


def reissue_code(volunteer: Volunteer, *, actor: str) -> str:
    """Revoke a volunteer's codes (a lost phone) and issue a new one."""
    moment = now()
    for code in db.session.scalars(select(VolunteerCode).where(
            VolunteerCode.volunteer_id == volunteer.id, VolunteerCode.revoked_dt.is_(None))):
        code.revoked_dt = moment
    token = _add_code(volunteer)
    log_event("volunteer.code_reissued", actor=actor, operation_id=volunteer.operation_id,
              subject=volunteer)
    return token


@cache  # every scan reads a code: made once, when first used (see get_operation)
def _code_statement():
    return (select(VolunteerCode).options(joinedload(VolunteerCode.volunteer, innerjoin=True))
            .where(VolunteerCode.code_hash == bindparam("code_hash")))


def resolve_code(operation: Operation, text: str) -> Volunteer:
    """Return the volunteer a scanned or typed code belongs to, or say clearly why not."""
    try:
        token = codes.normalize(text)
    except codes.CodeError as err:
        if err.reason == "checksum":
            raise Invalid(_("This code is damaged or mistyped. Scan it again or search by name."),
                          code="code_damaged", fields={"code": "checksum"}) from None
        raise Invalid(_("This is not a volunteer code."), code="code_malformed",
                      fields={"code": err.reason}) from None
    row = db.session.scalar(_code_statement(), {"code_hash": codes.token_hash(token)})
    if row is None or row.volunteer.operation_id != operation.id:
        raise NotFound(_("Unknown code: this code is not registered at this centre."),
                       code="unknown_code")
    if row.revoked_dt is not None:
        raise Conflict(_("This code was replaced by a new one. Ask the volunteer for the new code "
                         "or search by name."), code="code_revoked", status=410)
    return row.volunteer


def volunteer_by_token(text: str) -> Volunteer | None:
    """Return the volunteer whose own page this code opens, or None."""
    try:
        token = codes.normalize(text)
    except codes.CodeError:
        return None
    row = db.session.scalar(_code_statement(), {"code_hash": codes.token_hash(token)})
    return row.volunteer if row is not None and row.revoked_dt is None else None


def search_volunteers(operation: Operation, query: str, limit: int = 20) -> list[Volunteer]:
    """Find volunteers by name, kana or phone for those who come without their code."""
    text = (query or "").strip()
    if len(text) < 2:
        return []
    clauses = []
    digits = phone_key(text)
    if len(digits) >= 4:
        clauses.append(Volunteer.phone_key.contains(digits))
    squashed = person_key(text, text).split("|")
    clauses += [Volunteer.name_key.contains(squashed[0]),
                Volunteer.name_key.contains("|" + squashed[1])]
    return list(db.session.scalars(
        select(Volunteer).where(Volunteer.operation_id == operation.id, or_(*clauses))
        .order_by(Volunteer.kana).limit(limit)))


def log_view(volunteer: Volunteer, *, actor: str) -> None:
    """Record who opened a volunteer's record found by search (personal data is inside)."""
    log_event("volunteer.viewed", actor=actor, operation_id=volunteer.operation_id,
              subject=volunteer)


# --- insurance and check-in ----------------------------------------------------------------

def fiscal_year(day: date) -> int:
    """Volunteer activity insurance runs from 1 April to 31 March."""
    return day.year if day.month >= 4 else day.year - 1


def insured_on(volunteer: Volunteer, day: date) -> bool:
    """Tell whether the volunteer's insurance covers `day`."""
    if volunteer.insurance == "none":
        return False
    if volunteer.insurance_date is None:
        return volunteer.insurance == "home"  # enrolled at home, date not given: trust it
    return fiscal_year(volunteer.insurance_date) == fiscal_year(day)


def enrol_insurance(volunteer: Volunteer, operation: Operation, *, actor: str) -> None:
    """Record on-the-spot enrolment in volunteer activity insurance at this centre."""
    volunteer.insurance = "centre"
    volunteer.insurance_date = today()
    volunteer.insurance_council = operation.municipality
    log_event("volunteer.insurance_enrolled", actor=actor, operation_id=operation.id,
              subject=volunteer)


def todays_checkin(volunteer: Volunteer, day: date | None = None) -> CheckIn | None:
    return db.session.scalar(select(CheckIn).where(
        CheckIn.volunteer_id == volunteer.id, CheckIn.day == (day or today())))


def _require_open(operation: Operation) -> None:
    if operation.status != "open":
        raise Conflict(_("This operation is closed."), code="operation_closed")


def _site_for(operation: Operation, site_id: int | None) -> Site:
    site = (next((s for s in operation.sites if s.id == site_id), None) if site_id
            else operation.main_site)
    if site is None:
        raise Invalid(_("Choose a site of this operation."), fields={"site_id": "unknown"})
    if site.status != "open":
        raise Conflict(_("This site is not open for check-in now."), code="site_not_open")
    return site


def _require_room(site: Site, people: int) -> None:
    """Refuse a check-in past the site's daily quota, and point to tomorrow."""
    from dvc.sites.recruitment import quota_left
    left = quota_left(site)
    if left is not None and people > left:
        tomorrow = today() + timedelta(days=1)
        raise Conflict(_("%(site)s has reached today's number of volunteers. Please come "
                         "tomorrow (%(day)s) or to another site.", site=site.name,
                         day=f"{tomorrow.month}/{tomorrow.day}"),
                       code="site_full", data={"site_id": site.id, "left": left,
                                               "next_day": tomorrow.isoformat()})


def check_in(operation: Operation, volunteer: Volunteer, *, site_id: int | None, health_ok: bool,
             insurance_enrolled_now: bool, method: str, actor: str,
             health: dict | None = None, headcount: int | None = None) -> tuple[CheckIn, bool]:
    """Record today's check-in; return it and whether it is new (a repeat scan creates nothing).

    The check-in is written first and looked for only when that finds one already there (or a
    rule says no, since a repeat scan shows today's check-in whatever changed since): a first
    scan, nearly every scan of a morning, costs one statement instead of a look-up too."""
    _require_open(operation)
    try:
        site, people, enrolled_now = _admit(operation, volunteer, site_id, health_ok,
                                            insurance_enrolled_now, headcount)
    except DomainError:
        existing = todays_checkin(volunteer)
        if existing:
            return existing, False
        raise
    checkin = insert_unless_taken(
        db.session, CheckIn, ("volunteer_id", "day"), operation_id=operation.id,
        volunteer_id=volunteer.id, site_id=site.id, day=today(), checked_in_dt=now(),
        headcount=people, health=health or {}, insurance_enrolled_now=enrolled_now,
        method=method, actor=actor)
    if checkin is None:  # another kiosk scanned the same code a moment earlier: it won
        return todays_checkin(volunteer), False
    # The answer shows the volunteer and the site: keep them on the check-in (the session
    # holds rows weakly) instead of reading them again to serialise it.
    set_committed_value(checkin, "volunteer", volunteer)
    set_committed_value(checkin, "site", site)
    if enrolled_now:
        enrol_insurance(volunteer, operation, actor=actor)
    log_event("volunteer.checked_in", actor=actor, operation_id=operation.id, subject=checkin,
              payload={"volunteer_id": volunteer.id, "site_id": site.id,
                       "headcount": people, "method": method})
    return checkin, True


def _admit(operation: Operation, volunteer: Volunteer, site_id: int | None, health_ok: bool,
           insurance_enrolled_now: bool, headcount: int | None) -> tuple[Site, int, bool]:
    """Apply the check-in rules: return the site, the people it stands for and whether
    insurance is enrolled now, or raise why the volunteer may not check in."""
    site = _site_for(operation, site_id)
    group_size = volunteer.group.size if volunteer.group else 1
    people = headcount or group_size
    _require_room(site, people)
    if not health_ok:
        raise Conflict(_("The health check was not passed: please rest today and do not work."),
                       code="health_not_ok")
    enrolled_now = not insured_on(volunteer, today())
    if enrolled_now and not insurance_enrolled_now:
        raise Conflict(_("No volunteer activity insurance: enrol at the insurance desk first."),
                       code="insurance_required")
    if not 1 <= people <= group_size:
        raise Invalid(_("Headcount must be between 1 and the group's size."),
                      fields={"headcount": "range"})
    return site, people, enrolled_now


def checkins_on(operation: Operation, day: date, site_id: int | None = None) -> list[CheckIn]:
    """Return a day's check-ins, earliest first."""
    query = select(CheckIn).where(CheckIn.operation_id == operation.id, CheckIn.day == day)
    if site_id:
        query = query.where(CheckIn.site_id == site_id)
    return list(db.session.scalars(query.order_by(CheckIn.checked_in_dt, CheckIn.id)))


def first_days(volunteer_ids: list[int]) -> dict[int, date]:
    """Return each volunteer's first check-in day, to tell new from repeat volunteers."""
    if not volunteer_ids:
        return {}
    rows = db.session.execute(
        select(CheckIn.volunteer_id, func.min(CheckIn.day))
        .where(CheckIn.volunteer_id.in_(volunteer_ids)).group_by(CheckIn.volunteer_id))
    return dict(rows.all())
