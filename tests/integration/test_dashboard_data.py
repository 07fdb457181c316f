"""The dashboard's figures against a day built through the real operations, with known answers:
check-ins at known local times, a group, a team sent out that turns overdue when the clock
passes its due-back time, a team back, equipment lent and returned, an injury and a near-miss,
needs in two districts and at two sites, a merged duplicate; and a fixed number of queries."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from dvc.extensions import db

JST = ZoneInfo("Asia/Tokyo")
DAY = date(2026, 11, 22)   # the conftest clock's day (T0 = 09:00 local)


def at(hhmm: str, day: date = DAY) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=JST)


class Day:
    """Act through the domain's operations at chosen local times."""

    def __init__(self, clock, op_id: int, main: int, satellite: int):
        from dvc.operations.operations import get_operation
        self.clock, self.main, self.satellite = clock, main, satellite
        self.op = get_operation(op_id)
        self.people: dict[str, object] = {}
        self._phones = iter(range(1000, 9999))

    def at(self, hhmm: str, day: date = DAY) -> "Day":
        self.clock.jump(at(hhmm, day))
        return self

    def register(self, key: str, group_size: int | None = None):
        from dvc.volunteers.operations import Registration, register_volunteer
        n = next(self._phones)
        reg = Registration(name=f"試験 {key}", kana=f"しけん {key}", phone=f"090-5555-{n:04d}",
                           prefecture="東京都", municipality="三鷹市", birth_year=1980,
                           emergency_name="家族", emergency_phone="080-0000-0000", consent=True,
                           insurance="home", insurance_council="三鷹市社会福祉協議会",
                           insurance_date=date(2026, 5, 1),
                           group_name=f"{key}の会" if group_size else None, group_size=group_size)
        self.people[key], _code = register_volunteer(self.op, reg, via="pre", actor="test")
        return self.people[key]

    def check_in(self, key: str, site: int | None = None):
        from dvc.volunteers.operations import check_in
        checkin, new = check_in(self.op, self.people[key], site_id=site or self.main,
                                health_ok=True, insurance_enrolled_now=False, method="search",
                                actor="test")
        assert new
        return checkin

    def need(self, district: str | None, **extra):
        from dvc.needs.operations import NeedInput, create_need
        n = next(self._phones)
        return create_need(self.op, NeedInput(
            requester_name=f"依頼 {n}", address=f"テスト市 {n}", category="mud_removal",
            phone=f"0422-11-{n:04d}", district=district, **extra), actor="test")

    def ready(self, need):
        from dvc.needs.operations import change_status
        change_status(need, "ready", actor="test")
        return need

    def team(self, need, *keys):
        from dvc.teams.operations import form_team
        ids = [self.people[k].id for k in keys]
        team, _warnings = form_team(self.op, need, ids, ids[0], actor="test")
        return team


@pytest.fixture
def day(app, clock, operation):
    """The scenario, committed: (Day, the facts it is built from)."""
    from dvc.districts.fictional import FICTIONAL_LABEL, fictional_city
    from dvc.districts.operations import store_districts
    from dvc.equipment import operations as eq
    from dvc.needs.operations import merge_needs
    from dvc.sites.operations import get_site, update_site
    from dvc.teams import operations as teams

    op_id, main, satellite = operation
    with app.app_context():
        d = Day(clock, op_id, main, satellite)
        # The demo's fictional districts (北町, 南町, ...); the satellite serves 南町.
        store_districts(d.op, fictional_city(35.68, 139.56), source=FICTIONAL_LABEL,
                        actor="test")
        update_site(get_site(satellite), {"service_districts": ["南町"]}, actor="test")
        for key in "ABCDEFY":
            d.register(key)
        d.register("G", group_size=4)
        # Yesterday: Y came and two needs were received; today's arrivals must not count them.
        d.at("10:00", DAY - timedelta(days=1)).check_in("Y")
        north1 = d.ready(d.need("北町"))
        north2 = d.ready(d.need("北町"))
        # Today before reception opens: two new needs and a duplicate call, merged.
        d.at("08:30")
        south = d.need("南町")
        d.need(None)                                   # received, no district
        duplicate = d.need("南町")
        merge_needs(duplicate, south, actor="test")    # not counted

        # Arrivals at known times (local).
        d.at("08:40").check_in("A")                    # 08:30 bucket
        d.at("08:50").check_in("B")                    # 08:45
        d.at("09:00").check_in("C")                    # 09:00
        d.check_in("G")                                # 09:00, 4 people
        d.at("09:14").check_in("D", satellite)         # 09:00
        d.at("09:15").check_in("E", satellite)         # 09:15
        # F registered but did not come.

        # Equipment: 5 shovels (low at 2), 3 wheelbarrows.
        shovel = eq.add_item_type(d.op, "スコップ", unit="本", low_stock=2, actor="test")
        barrow = eq.add_item_type(d.op, "一輪車", unit="台", low_stock=0, actor="test")
        eq.receive_stock(get_site(main), shovel, 5, actor="test")
        eq.receive_stock(get_site(main), barrow, 3, actor="test")

        d.at("09:30")
        t1 = d.team(north1, "A", "B")                  # two people, sent out
        eq.lend_to_team(t1, shovel, 4, actor="test")   # shelf 1 <= 2: low
        teams.dispatch_team(t1, transport="walk", actor="test")
        t2 = d.team(north2, "C")
        eq.lend_to_team(t2, barrow, 1, actor="test")
        teams.dispatch_team(t2, transport="walk", actor="test")
        d.at("11:00")
        teams.record_incident(op_id, kind="injury", description="手を切った", actor="test",
                              team=t1, severity="treated")
        teams.report_team(t2, outcome="completed", actor="test", reported_by="C",
                          incidents=[{"kind": "near_miss", "description": "釘"}])
        eq.return_from_team(t2, barrow, 1, "good", actor="test")
        teams.return_team(t2, actor="test")            # C is free again
        facts = {"t1": t1.id, "t2": t2.id, "main": main, "satellite": satellite}
        db.session.commit()
        db.session.remove()
    return d, facts


def data_at(app, clock, hhmm: str) -> dict:
    from dvc.operations.operations import get_operation
    from dvc.reports.dashboard import dashboard_data
    clock.jump(at(hhmm))
    with app.app_context():
        return dashboard_data(get_operation(app_op(app)))


def app_op(app) -> int:
    from dvc.operations.models import Operation
    return db.session.scalar(db.select(Operation.id))


def test_arrivals_per_15_minutes_in_local_time(app, clock, day):
    data = data_at(app, clock, "11:05")
    arrivals = data["arrivals"]
    assert (arrivals["checkins"], arrivals["people"]) == (6, 9)   # A B C G(4) D E
    assert (arrivals["first"], arrivals["last"]) == ("08:40", "09:15")
    buckets = {b["start"]: (b["checkins"], b["people"]) for b in arrivals["buckets"]}
    assert buckets["08:30"] == (1, 1)
    assert buckets["08:45"] == (1, 1)
    assert buckets["09:00"] == (3, 6)
    assert buckets["09:15"] == (1, 1)
    assert buckets["09:30"] == (0, 0)
    # The axis runs from the first arrival to the end of activity (15:00), every 15 minutes.
    starts = [b["start"] for b in arrivals["buckets"]]
    assert starts[0] == "08:30" and starts[-1] == "14:45" and len(starts) == 26
    assert sum(b["people"] for b in arrivals["buckets"]) == arrivals["people"]
    assert [(s["site_id"], s["checkins"], s["people"]) for s in arrivals["by_site"]] == [
        (day[1]["main"], 4, 7), (day[1]["satellite"], 2, 2)]
    assert data["day"] == "2026-11-22" and data["as_of_local"] == "11:05"


def test_the_reception_queue_and_how_long_it_has_waited(app, clock, day):
    data = data_at(app, clock, "11:05")
    queue = data["queue"]
    # Waiting for a first team: G (09:00, 4 people), D (09:14), E (09:15); C is back and free.
    assert (queue["checkins"], queue["people"]) == (3, 6)
    assert queue["wait_max_min"] == 125                     # G since 09:00
    assert queue["wait_p50_min"] == 111                     # D since 09:14
    assert queue["oldest"] == "09:00"
    assert (queue["free_checkins"], queue["free_people"]) == (4, 7)


def test_teams_out_back_and_overdue_after_the_due_back_time(app, clock, day):
    teams = data_at(app, clock, "14:59")["teams"]
    assert teams == {"formed_today": 2, "waiting": 0, "out": 1, "people_out": 2, "back": 1,
                     "people_back": 1, "overdue": 0, "recalled_out": 0,
                     "by_status": {"formed": 0, "dispatched": 1, "on_site": 0, "finished": 0,
                                   "returned": 1}}
    # Past 15:00 (ACTIVITY_END) the team still out is overdue.
    assert data_at(app, clock, "15:01")["teams"]["overdue"] == 1


def test_needs_by_status_district_and_site(app, clock, day):
    needs = data_at(app, clock, "11:05")["needs"]
    # north1 in progress, north2 completed, south received, one received with no district;
    # the merged duplicate is not counted.
    assert needs["total"] == 4 and needs["open"] == 3
    assert {s: n for s, n in needs["by_status"].items() if n} == {
        "received": 2, "in_progress": 1, "completed": 1}
    assert (needs["received_today"], needs["completed_today"]) == (2, 1)
    assert [(d["district"], d["open"], d["total"]) for d in needs["by_district"]] == [
        ("北町", 1, 2), ("南町", 1, 1), (None, 1, 1)]
    north = needs["by_district"][0]["by_status"]
    assert (north["in_progress"], north["completed"]) == (1, 1)
    sites = {s["site_id"]: (s["open"], s["total"]) for s in needs["by_site"]}
    assert sites == {day[1]["main"]: (2, 3), day[1]["satellite"]: (1, 1)}
    assert [s["name"] for s in needs["by_site"]] == ["本部", "北サテライト"]


def test_equipment_out_and_low_stock(app, clock, day):
    equipment = data_at(app, clock, "11:05")["equipment"]
    assert [(i["name"], i["quantity"], i["unit"]) for i in equipment["out"]] == [("スコップ", 4, "本")]
    assert equipment["out_total"] == 4
    assert [(s["name"], s["on_hand"], s["low_stock"], s["site"]) for s in equipment["low"]] == [
        ("スコップ", 1, 2, "本部")]


def test_injuries_and_near_misses_today_only(app, clock, day):
    incidents = data_at(app, clock, "11:05")["incidents"]
    assert incidents == {"injuries": 1, "near_misses": 1,
                         "injuries_by_severity": {"minor": 0, "treated": 1, "hospital": 0}}
    clock.jump(at("09:00", DAY + timedelta(days=1)))
    with app.app_context():
        from dvc.operations.operations import get_operation
        from dvc.reports.dashboard import dashboard_data
        tomorrow = dashboard_data(get_operation(app_op(app)))
    assert tomorrow["incidents"]["injuries"] == 0
    assert tomorrow["arrivals"]["checkins"] == 0 and tomorrow["queue"]["checkins"] == 0
    # The team still out from yesterday is out and overdue today; nothing was formed today.
    assert (tomorrow["teams"]["out"], tomorrow["teams"]["overdue"],
            tomorrow["teams"]["formed_today"], tomorrow["teams"]["back"]) == (1, 1, 0, 0)


def test_an_empty_operation_has_zeros_and_no_waits(app, clock, operation):
    data = data_at(app, clock, "09:00")
    assert data["arrivals"]["checkins"] == 0 and data["arrivals"]["first"] is None
    # The axis still runs from the sites' opening (09:00) to the end of activity.
    assert [data["arrivals"]["buckets"][i]["start"] for i in (0, -1)] == ["09:00", "14:45"]
    assert data["queue"]["wait_p50_min"] is None and data["queue"]["wait_max_min"] is None
    assert data["needs"]["by_district"] == [] and data["equipment"]["out"] == []
    assert data["incidents"]["injuries"] == 0


def test_a_fixed_number_of_queries_whatever_the_size(app, clock, day):
    from dvc.operations.operations import get_operation
    from dvc.reports.dashboard import dashboard_data
    clock.jump(at("11:05"))
    with app.app_context():
        operation = get_operation(app_op(app))
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            dashboard_data(operation)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 8, selects
