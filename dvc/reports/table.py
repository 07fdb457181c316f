"""The daily report as rows of (section, figure, day, cumulative): what the page, the CSV and
the Excel file all show, so the three cannot disagree."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from dvc.needs.labels import STATUSES as NEED_STATUSES
from dvc.reports.daily import DailyReport

SECTIONS = {"volunteers": _l("Volunteers"), "sites": _l("Volunteers by site"),
            "needs": _l("Needs: received and handled"), "activity": _l("Activity and safety")}
VOLUNTEERS = (
    ("people", _l("Volunteers (people)")),
    ("new", _l("New (first time)")),
    ("repeat", _l("Repeat")),
    ("individuals", _l("Individuals (people)")),
    ("in_groups", _l("In groups (people)")),
    ("groups", _l("Groups that came")),
    ("in_prefecture", _l("From inside the prefecture")),
    ("out_of_prefecture", _l("From outside the prefecture")),
)
NEEDS = (
    ("received", _l("Needs received")),
    ("surveyed", _l("Surveyed")),
    ("completed", _l("Completed")),
    ("continuing", _l("Continuing (work left)")),
    ("cancelled", _l("Cancelled")),
    ("referred", _l("Referred to specialists")),
)
ACTIVITY = (
    ("teams_dispatched", _l("Teams dispatched")),
    ("people_dispatched", _l("People dispatched")),
    ("people_hours", _l("People-hours")),
    ("teams_estimated", _l("Teams whose hours are estimated (no return recorded)")),
    ("injuries", _l("Injuries")),
    ("near_misses", _l("Near-misses")),
    ("equipment_lost", _l("Equipment lost")),
    ("equipment_broken", _l("Equipment broken")),
)
# Figures anyone may see (the public page and API): no incidents, equipment or notes.
PUBLIC_SECTIONS = ("volunteers", "sites", "needs")
PUBLIC_ACTIVITY = ("teams_dispatched", "people_dispatched", "people_hours")


@dataclass(frozen=True)
class Row:
    section: str
    key: str
    label: str
    day: int | float
    cumulative: int | float | None   # None: a state at the end of the day, not a sum


def report_rows(report: DailyReport, *, public: bool = False) -> list[Row]:
    """Return every figure of the report in order (only the public ones when `public`)."""
    day, total = report.today, report.cumulative
    rows = [Row("volunteers", k, str(label), getattr(day.volunteers, k),
                getattr(total.volunteers, k)) for k, label in VOLUNTEERS]
    rows += [Row("sites", f"site_{s.id}", s.name, day.volunteers.by_site.get(s.id, 0),
                 total.volunteers.by_site.get(s.id, 0)) for s in report.sites]
    rows += [Row("needs", k, str(label), getattr(day.needs, k), getattr(total.needs, k))
             for k, label in NEEDS]
    rows.append(Row("needs", "waiting", str(_l("Waiting (open at the end of the day)")),
                    report.waiting, None))
    rows += [Row("needs", f"waiting_{status}", "　" + str(NEED_STATUSES[status]), count, None)
             for status, count in report.waiting_by_status.items()]
    rows += [Row("activity", k, str(label), getattr(day.activity, k),
                 getattr(total.activity, k)) for k, label in ACTIVITY]
    if public:
        rows = [r for r in rows if r.section in PUBLIC_SECTIONS or r.key in PUBLIC_ACTIVITY]
    return rows


def section_label(section: str) -> str:
    return str(SECTIONS[section])
