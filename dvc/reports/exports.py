"""Files: the daily report as CSV and Excel, and a whole operation for the records (needs as a
GeoPackage, check-ins, teams and events as CSV, all in one zip)."""
from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select

from dvc.core.events import Event
from dvc.extensions import db
from dvc.needs.models import Need
from dvc.operations.models import Operation
from dvc.reports.daily import DailyReport
from dvc.reports.table import report_rows, section_label
from dvc.sites.models import Site
from dvc.teams.models import ActivityReport, Team, TeamMember
from dvc.volunteers.models import CheckIn, Volunteer, VolunteerGroup

# Excel opens a UTF-8 CSV as Japanese only when it starts with a byte order mark.
CSV_ENCODING = "utf-8-sig"
# Rounding the points of an anonymised export to 3 decimals of a degree: a grid of about
# 110 m north-south and 90 m east-west in Japan, so a point no longer names a house.
ANONYMOUS_DECIMALS = 3
# What an anonymised export leaves out: who asked, how to reach them, where exactly, what
# they said, and the care flags (要配慮個人情報).
PERSONAL_NEED_COLUMNS = ("requester_name", "requester_kana", "phone", "phone2", "address",
                         "description", "remaining_work", "equipment_wanted", "elderly",
                         "disabled", "living_alone")


# --- the daily report ------------------------------------------------------------------------

def _report_lines(report: DailyReport) -> list[list]:
    """The report as lines of cells: a title block, the figures, equipment, the notes."""
    lines = [[_("Daily report"), report.operation_name],
             [_("Date"), report.day.isoformat()],
             [_("Day of the operation"), report.day_number],
             [_("As of"), report.as_of.isoformat(timespec="minutes")],
             [],
             [_("Section"), _("Figure"), _("This day"), _("Since opening"), _("Code")]]
    for row in report_rows(report):
        lines.append([section_label(row.section), row.label.strip("　"), row.day,
                      "" if row.cumulative is None else row.cumulative, row.key])
    if report.losses:
        lines += [[], [_("Equipment written off"), _("Item"), _("This day"), _("Since opening"),
                       _("Code")]]
        for loss in report.losses:
            kind = _("Lost") if loss.kind == "lost" else _("Broken")
            lines.append([kind, f"{loss.item} ({loss.unit})", loss.day, loss.cumulative,
                          loss.kind])
    lines += [[], [_("Notes from the head of the centre"), report.note]]
    return lines


def _csv(lines) -> bytes:
    """Return lines of cells as CSV that Excel opens with its Japanese intact."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(lines)
    return buffer.getvalue().encode(CSV_ENCODING)


def daily_csv(report: DailyReport) -> bytes:
    """Return the report as CSV that Excel opens with its Japanese intact."""
    return _csv(_report_lines(report))


def daily_xlsx(report: DailyReport) -> bytes:
    """Return the report as an Excel workbook, set up to print on one A4 page."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = report.day.isoformat()
    for line in _report_lines(report):
        sheet.append(line)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["B1"].font = Font(bold=True, size=14)
    for row in sheet.iter_rows():
        first = row[0]
        if first.value in (_("Section"), _("Equipment written off")):
            for cell in row:
                cell.font = Font(bold=True)
        if first.value == _("Notes from the head of the centre") and len(row) > 1:
            row[1].alignment = Alignment(wrap_text=True, vertical="top")
    for column, width in zip("ABCDE", (22, 44, 12, 14, 22)):
        sheet.column_dimensions[column].width = width
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 1
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- the whole operation, for the records ----------------------------------------------------

def _iso(value) -> str:
    return value.isoformat() if value is not None else ""


def needs_frame(operation: Operation, *, anonymised: bool):
    """Return the operation's needs as a GeoDataFrame (WGS 84 points; none when not placed)."""
    import geopandas
    from shapely.geometry import Point

    skip = {"name_key", "phone_key", "phone2_key"} | (
        set(PERSONAL_NEED_COLUMNS) if anonymised else set())
    columns = [c for c in Need.__table__.columns if c.key not in skip]
    sites = dict(db.session.execute(select(Site.id, Site.name)
                                    .where(Site.operation_id == operation.id)).all())
    records, points = [], []
    for row in db.session.execute(select(*columns).where(Need.operation_id == operation.id)
                                  .order_by(Need.id)).mappings():
        record = {}
        for key, value in row.items():
            if key == "skills":
                value = ",".join(value or [])
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            record[key] = value
        record["number"] = f"N{row['id']:05d}"
        record["site"] = sites.get(row["site_id"], "")
        lat, lon = row["lat"], row["lon"]
        if anonymised and lat is not None:
            lat, lon = round(lat, ANONYMOUS_DECIMALS), round(lon, ANONYMOUS_DECIMALS)
            record["lat"], record["lon"] = lat, lon
        records.append(record)
        points.append(Point(lon, lat) if lat is not None else None)
    if not records:
        return geopandas.GeoDataFrame(
            {c: [] for c in ["id", "number", "status"]}, geometry=[], crs="EPSG:4326")
    return geopandas.GeoDataFrame(records, geometry=points, crs="EPSG:4326")


def needs_geopackage(operation: Operation, *, anonymised: bool) -> bytes:
    """Return the needs as a GeoPackage file (layer `needs`)."""
    frame = needs_frame(operation, anonymised=anonymised)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "needs.gpkg"
        frame.to_file(path, layer="needs", driver="GPKG", engine="pyogrio")
        return path.read_bytes()


def checkins_csv(operation: Operation, *, anonymised: bool) -> bytes:
    """Every check-in; names and phones only in the full export."""
    people = [] if anonymised else [_("Name"), _("Kana"), _("Phone")]
    header = [_("Day"), _("Checked in at"), _("Site"), _("Volunteer no."), *people,
              _("Prefecture"), _("Group"), _("Headcount"), _("Method"),
              _("Insurance enrolled at the centre")]
    query = (select(CheckIn, Volunteer, Site.name, VolunteerGroup.name)
             .join(Volunteer, Volunteer.id == CheckIn.volunteer_id)
             .join(Site, Site.id == CheckIn.site_id)
             .outerjoin(VolunteerGroup, VolunteerGroup.id == Volunteer.group_id)
             .where(CheckIn.operation_id == operation.id)
             .order_by(CheckIn.day, CheckIn.checked_in_dt, CheckIn.id))
    rows = []
    for checkin, volunteer, site, group in db.session.execute(query):
        who = [] if anonymised else [volunteer.name, volunteer.kana, volunteer.phone]
        rows.append([checkin.day.isoformat(), _iso(checkin.checked_in_dt), site,
                     volunteer.number, *who, volunteer.prefecture,
                     _group_cell(volunteer, group, anonymised),
                     checkin.headcount, checkin.method, int(checkin.insurance_enrolled_now)])
    return _csv([header, *rows])


def _group_cell(volunteer: Volunteer, group: str | None, anonymised: bool) -> str:
    if volunteer.group_id is None:
        return ""
    return f"G{volunteer.group_id}" if anonymised else group


def teams_csv(operation: Operation, *, anonymised: bool) -> bytes:
    """Every team with its times, people and report; free text only in the full export."""
    texts = [] if anonymised else [_("Work that remains"), _("Notes")]
    header = [_("Team"), _("Day"), _("Need"), _("Site"), _("Status"), _("Leader no."),
              _("People"), _("Transport"), _("Formed at"), _("Dispatched at"),
              _("Arrived at"), _("Finished at"), _("Returned at"), _("Recalled at"),
              _("Outcome"), _("People needed next time"), *texts]
    people = (select(TeamMember.team_id, func.sum(TeamMember.headcount).label("people"))
              .group_by(TeamMember.team_id).subquery())
    query = (select(Team, Site.name, people.c.people, ActivityReport)
             .join(Site, Site.id == Team.site_id)
             .outerjoin(people, people.c.team_id == Team.id)
             .outerjoin(ActivityReport, ActivityReport.team_id == Team.id)
             .where(Team.operation_id == operation.id).order_by(Team.id))
    rows = []
    for team, site, headcount, report in db.session.execute(query):
        extra = [] if anonymised else [report.remaining_work or "" if report else "",
                                       report.notes or "" if report else ""]
        rows.append([team.number, team.day.isoformat(), f"N{team.need_id:05d}", site,
                     team.status, f"{team.leader_id:05d}", headcount or 0, team.transport or "",
                     _iso(team.formed_dt), _iso(team.dispatched_dt), _iso(team.arrived_dt),
                     _iso(team.finished_dt), _iso(team.returned_dt), _iso(team.recalled_dt),
                     report.outcome if report else "",
                     report.people_next if report and report.people_next else "", *extra])
    return _csv([header, *rows])


def _anonymous_payload(kind: str, payload: dict) -> dict:
    """An event's payload without exact points (a need moved) or free text (a recall)."""
    payload = dict(payload or {})
    if kind == "need.moved":
        for key in ("from", "to"):
            if payload.get(key) and payload[key][0] is not None:
                payload[key] = [round(x, ANONYMOUS_DECIMALS) for x in payload[key]]
    if kind == "team.recall_all":
        payload.pop("reason", None)
    return payload


def events_csv(operation: Operation, *, anonymised: bool) -> bytes:
    """The operation's event log, in order; staff accounts only in the full export."""
    header = [_("Sequence"), _("Scenario time"), _("Wall time"), _("Actor"), _("Kind"),
              _("Subject"), _("Subject id"), _("Payload (JSON)")]
    query = select(Event).where(Event.operation_id == operation.id).order_by(Event.id)
    rows = []
    for event in db.session.scalars(query).yield_per(2000):
        actor = event.actor.split(":", 1)[0] if anonymised else event.actor
        payload = _anonymous_payload(event.kind, event.payload) if anonymised else event.payload
        rows.append([event.id, _iso(event.scenario_dt), _iso(event.wall_dt), actor, event.kind,
                     event.subject_type or "", event.subject_id or "",
                     json.dumps(payload, ensure_ascii=False, sort_keys=True)])
    return _csv([header, *rows])


def operation_zip(operation: Operation, *, anonymised: bool) -> bytes:
    """Return needs.gpkg, checkins.csv, teams.csv and events.csv in one zip file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("needs.gpkg", needs_geopackage(operation, anonymised=anonymised))
        archive.writestr("checkins.csv", checkins_csv(operation, anonymised=anonymised))
        archive.writestr("teams.csv", teams_csv(operation, anonymised=anonymised))
        archive.writestr("events.csv", events_csv(operation, anonymised=anonymised))
    return buffer.getvalue()
