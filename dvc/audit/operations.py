"""Queries over the one event log for the audit trail: the events about records that hold
personal data, filtered by who, which record, what and when. Reading only: nothing here
changes state."""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from dvc.audit.labels import SUBJECTS, kind_label
from dvc.core.events import Event
from dvc.extensions import db
from dvc.needs.models import Need
from dvc.operations.models import Operation
from dvc.reports.daily import day_bounds
from dvc.volunteers.models import Volunteer
from dvc.volunteers.operations import person_key, phone_key

# Records that hold personal data: survivors' needs (要配慮個人情報) and volunteers.
PERSONAL_SUBJECTS = tuple(SUBJECTS)
PAGE_SIZE = 50
CSV_BATCH = 1000
# Excel opens a UTF-8 CSV as Japanese only when it starts with a byte order mark.
CSV_BOM = "\ufeff"
NEED_NUMBER = re.compile(r"[Nn]?0*(\d{1,9})")
VOLUNTEER_NUMBER = re.compile(r"[Vv]0*(\d{1,9})")
PHONE_LIKE = re.compile(r"[\d\s()+\-]+")
# Details the trail leaves out: where a survivor's house is says nothing about who looked.
HIDDEN_DETAILS = {"need.moved": ("from", "to")}


@dataclass(frozen=True)
class AuditFilter:
    """What the head of the centre is looking for; empty fields do not filter."""

    actor: str = ""
    record: str = ""          # a need number (N00012), V + a volunteer number, a phone, a name
    kind: str = ""
    start: date | None = None
    end: date | None = None   # inclusive


@dataclass(frozen=True)
class AuditPage:
    events: list[Event]
    total: int
    page: int
    pages: int


def records_named(operation: Operation, text: str) -> tuple[list[int], list[int]]:
    """Return the ids of the needs and volunteers a search names: a need number, V and a
    volunteer number, a phone number, or part of a name or its kana."""
    text = unicodedata.normalize("NFKC", text).strip()
    digits = phone_key(text)
    if PHONE_LIKE.fullmatch(text) and len(digits) >= 10:
        return _by_phone(operation, digits)
    if match := NEED_NUMBER.fullmatch(text):
        return [int(match[1])], []
    if match := VOLUNTEER_NUMBER.fullmatch(text):
        return [], [int(match[1])]
    return _by_name(operation, text)


def _by_phone(operation: Operation, digits: str) -> tuple[list[int], list[int]]:
    needs = db.session.scalars(select(Need.id).where(
        Need.operation_id == operation.id,
        or_(Need.phone_key == digits, Need.phone2_key == digits)))
    volunteers = db.session.scalars(select(Volunteer.id).where(
        Volunteer.operation_id == operation.id, Volunteer.phone_key == digits))
    return list(needs), list(volunteers)


def _by_name(operation: Operation, text: str) -> tuple[list[int], list[int]]:
    # The keys squash widths and spaces and hold the kana as katakana: search both forms.
    name, kana = person_key(text, text).split("|")
    if not name:
        return [], []

    def named(column):
        return or_(column.contains(name, autoescape=True),
                   column.contains(kana, autoescape=True))
    needs = db.session.scalars(select(Need.id).where(Need.operation_id == operation.id,
                                                     named(Need.name_key)))
    volunteers = db.session.scalars(select(Volunteer.id).where(
        Volunteer.operation_id == operation.id, named(Volunteer.name_key)))
    return list(needs), list(volunteers)


def _conditions(operation: Operation, wanted: AuditFilter) -> list:
    where = [Event.operation_id == operation.id, Event.subject_type.in_(PERSONAL_SUBJECTS)]
    if wanted.actor.strip():
        where.append(Event.actor.ilike(f"%{_escaped(wanted.actor.strip())}%", escape="\\"))
    if wanted.kind:
        where.append(Event.kind == wanted.kind)
    if wanted.record.strip():
        needs, volunteers = records_named(operation, wanted.record)
        where.append(or_(
            (Event.subject_type == "need") & Event.subject_id.in_(needs),
            (Event.subject_type == "volunteer") & Event.subject_id.in_(volunteers)))
    tz = current_app.config["TIMEZONE"]
    if wanted.start:
        where.append(Event.scenario_dt >= day_bounds(wanted.start, tz)[0])
    if wanted.end:
        where.append(Event.scenario_dt < day_bounds(wanted.end, tz)[1])
    return where


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def audit_events(operation: Operation, wanted: AuditFilter, page: int = 1) -> AuditPage:
    """Return one page of the matching events, newest first."""
    where = _conditions(operation, wanted)
    total = db.session.scalar(select(func.count()).select_from(Event).where(*where))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    events = db.session.scalars(select(Event).where(*where).order_by(Event.id.desc())
                                .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    return AuditPage(list(events), total, page, pages)


def iter_audit_events(where: list) -> Iterator[Event]:
    """Yield every event matching `_conditions`, newest first, a batch at a time (months of
    views); rows already yielded are let go (the session holds them weakly)."""
    before = None
    while True:
        query = select(Event).where(*where).order_by(Event.id.desc()).limit(CSV_BATCH)
        if before is not None:
            query = query.where(Event.id < before)
        batch = list(db.session.scalars(query))
        yield from batch
        if len(batch) < CSV_BATCH:
            return
        before = batch[-1].id


def audit_kinds(operation: Operation) -> list[str]:
    """Return the kinds of events the operation's records have, for the filter."""
    return sorted(db.session.scalars(select(Event.kind).distinct().where(
        Event.operation_id == operation.id, Event.subject_type.in_(PERSONAL_SUBJECTS))))


def audit_actors(operation: Operation) -> list[str]:
    """Return who has viewed or changed the operation's records, for the filter's hints."""
    return sorted(db.session.scalars(select(Event.actor).distinct().where(
        Event.operation_id == operation.id, Event.subject_type.in_(PERSONAL_SUBJECTS))))


def record_number(event: Event) -> str:
    """The number staff know the record by: N00012 for a need, 00012 for a volunteer."""
    if event.subject_id is None:
        return ""
    if event.subject_type == "need":
        return f"N{event.subject_id:05d}"
    return f"{event.subject_id:05d}"


def details(event: Event) -> dict:
    """Return what the event recorded, less what the audit trail has no need to show."""
    hidden = HIDDEN_DETAILS.get(event.kind, ())
    return {k: v for k, v in (event.payload or {}).items() if k not in hidden}


def _local(moment, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")


def csv_lines(operation: Operation, wanted: AuditFilter) -> Iterator[str]:
    """Return the matching events as CSV lines that Excel opens with its Japanese intact (the
    search is resolved now; the lines are made as the response is sent)."""
    return _lines(_conditions(operation, wanted), current_app.config["TIMEZONE"])


def _lines(where: list, tz: str) -> Iterator[str]:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield CSV_BOM + line([_("Time"), _("Recorded at"), _("Who"), _("What"), _("Event code"),
                          _("Record"), _("Record number"), _("Details")])
    for event in iter_audit_events(where):
        yield line([_local(event.scenario_dt, tz), _local(event.wall_dt, tz), event.actor,
                    kind_label(event.kind), event.kind, SUBJECTS.get(event.subject_type, ""),
                    record_number(event),
                    json.dumps(details(event), ensure_ascii=False) if details(event) else ""])
