"""JSON API: the public daily figures of an operation (open data, counts only)."""
from __future__ import annotations

from dataclasses import asdict


from dvc.extensions import ApiBlueprint
from dvc.operations.operations import get_operation
from dvc.reports.daily import DailyReport, Figures, build_daily_report, report_day
from dvc.reports.schemas import DailyStatsOut, DailyStatsQuery
from dvc.reports.table import PUBLIC_ACTIVITY

bp = ApiBlueprint("reports_api", __name__, url_prefix="/api/v1",
                  description="Daily figures (日報), open data: anonymous counts only")


def _column(report: DailyReport, figures: Figures) -> dict:
    volunteers = asdict(figures.volunteers)
    volunteers["by_site"] = [{"site_id": s.id, "name": s.name, "kind": s.kind,
                              "people": figures.volunteers.by_site.get(s.id, 0)}
                             for s in report.sites]
    return {"volunteers": volunteers, "needs": asdict(figures.needs),
            "activity": {k: getattr(figures.activity, k) for k in PUBLIC_ACTIVITY}}


def public_stats(report: DailyReport, operation) -> dict:
    """The public part of a daily report: no incidents, equipment or notes."""
    return {"operation": operation, "date": report.day, "day_number": report.day_number,
            "complete": report.complete, "as_of": report.as_of,
            "day": _column(report, report.today),
            "since_opening": _column(report, report.cumulative),
            "needs_waiting": report.waiting,
            "needs_waiting_by_status": report.waiting_by_status}


@bp.route("/operations/<int:op_id>/stats/daily", methods=["GET"])
@bp.arguments(DailyStatsQuery, location="query")
@bp.response(200, DailyStatsOut)
def daily_stats(query, op_id):
    """A day's figures as councils publish them: volunteers, needs and activity, for the day
    and since the operation opened. Public; anonymous counts only."""
    operation = get_operation(op_id)
    report = build_daily_report(operation, report_day(operation, query["date"]))
    return public_stats(report, operation)
