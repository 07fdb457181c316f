#!/usr/bin/env python3
"""The daily report (日報) and the live dashboard's figures on a 90-day operation.

1. Makes a temporary SQLite database with the migrations (the schema, and its indexes, that a
   centre really runs on) and, through SQLAlchemy Core bulk inserts, one operation of 90 days
   (Kurashiki 2018 sizes: a main centre and three satellites) holding
     - 60,000 check-ins (`--checkins`) from about 38,000 registrations, 1 in 25 a group of 3-10
       who stay together; more at weekends and early on, about 4 in 10 check-ins by repeat
       volunteers;
     - 8,000 needs (`--needs`), most received in the first weeks, each surveyed, then served
       by teams of about five of the day's volunteers (continuing needs first) until a team
       reports it completed; a few cancelled, referred or on hold; those left open at the end
       wait in every open status;
     - about 10,000 teams, with their members, activity reports, injuries and near-misses,
       and the equipment each took and brought back (a few items lost or broken);
     - and every event the real operations write for all of that (registrations, check-ins,
       needs received / surveyed / status changes, team formed / dispatched / on site /
       finished / returned / reported, incidents, equipment lent / returned / lost / broken),
       with the same kinds and payloads, in time order: about 245,000 events.
2. Puts the app's clock at 16:00 (JST) on day 86 (a late day, after the teams came back)
   and times, each once to warm up then the median of `--runs` runs:
     - `build_daily_report` for that day and for the day before (a whole day);
     - the same report through HTTP as the public stats API and as the Excel file;
     - `dashboard_data(operation)` from dvc/reports/dashboard.py, when it exists.
   Goal: under 1 s each for the report and the dashboard data.

Nothing is asserted; the figures of the report are printed so a reader can see that the data
is what it says. Usage: .venv/bin/python bench/report.py [--runs 5] [--seed 2018]
"""
from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import deque
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

JST = timezone(timedelta(hours=9))
OPENED = datetime(2026, 7, 9, 9, 0, tzinfo=JST)   # a Thursday; day 1
DAYS = 90
LATE_DAY = 86
GOAL_S = 1.0
SITES = [("倉敷市災害VC 本部", "main"), ("真備サテライト", "satellite"),
         ("箭田サテライト", "satellite"), ("川辺サテライト", "satellite")]
PREFECTURES = ["岡山県"] * 55 + ["広島県"] * 10 + ["兵庫県"] * 8 + ["大阪府"] * 10 + \
              ["香川県"] * 5 + ["東京都"] * 7 + ["愛知県"] * 5
ITEMS = [("スコップ", "本"), ("一輪車", "台"), ("土のう袋", "枚"), ("デッキブラシ", "本"),
         ("高圧洗浄機", "台")]
CATEGORIES = ("mud_removal", "furniture_removal", "tidying", "cleaning", "debris")


def utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def at(day: int, hour: float) -> datetime:
    """Local time `hour` on operation day `day` (1-based), in UTC."""
    return utc(OPENED.replace(hour=0) + timedelta(days=day - 1, hours=hour))


class Data:
    """Rows for every table, with ids given here so rows can refer to each other."""

    def __init__(self, op_id: int, site_ids: list[int], item_ids: list[int]):
        self.op_id, self.site_ids, self.item_ids = op_id, site_ids, item_ids
        self.groups, self.volunteers, self.checkins = [], [], []
        self.needs, self.surveys, self.teams, self.members = [], [], [], []
        self.reports, self.incidents, self.movements, self.events = [], [], [], []

    def event(self, kind, moment, subject_type=None, subject_id=None, payload=None,
              actor="user:bench"):
        self.events.append({"operation_id": self.op_id, "scenario_dt": moment,
                            "wall_dt": moment, "actor": actor, "kind": kind,
                            "subject_type": subject_type, "subject_id": subject_id,
                            "payload": payload or {}})


def daily_checkins(total: int, rng: random.Random) -> list[int]:
    """Check-ins per day: a peak in the first weeks, more at weekends, then a long tail."""
    weights = []
    for d in range(1, DAYS + 1):
        weekday = (OPENED.date() + timedelta(days=d - 1)).weekday()
        weights.append((math.exp(-d / 35) + 0.15) * (1.8 if weekday >= 5 else 1.0)
                       * rng.uniform(0.9, 1.1))
    counts = [int(total * w / sum(weights)) for w in weights]
    counts[0] += total - sum(counts)
    return counts


def generate(data: Data, checkins: int, needs: int, rng: random.Random) -> None:
    """Simulate the 90 days as the operations would have recorded them."""
    per_day = daily_checkins(checkins, rng)
    need_days = sorted(min(DAYS, 1 + int(rng.expovariate(1 / 18))) for _ in range(needs))
    pool: list[int] = []            # volunteer ids registered so far
    sizes: dict[int, int] = {}      # volunteer id -> group size (1 for an individual)
    queue: deque[int] = deque()     # needs ready for a team
    surveyed_at: list[tuple[datetime, int]] = []   # needs ready from that moment
    continuing: deque[int] = deque()
    status: dict[int, str] = {}
    next_need = 0

    def change(need_id, to, moment, reason=None):
        data.event("need.status_changed", moment, "need", need_id,
                   {"from": status[need_id], "to": to, "reason": reason})
        status[need_id] = to
        data.needs[need_id - 1]["status"], data.needs[need_id - 1]["status_dt"] = to, moment

    for day in range(1, DAYS + 1):
        date_ = OPENED.date() + timedelta(days=day - 1)
        # --- needs received today: surveyed the same afternoon, mostly ready for volunteers
        while next_need < needs and need_days[next_need] <= day:
            next_need += 1
            need_id = next_need
            received = at(day, rng.uniform(8, 17))
            district = rng.choice(("真備", "箭田", "川辺", "有井", "岡田"))
            data.needs.append({
                "id": need_id, "operation_id": data.op_id,
                "site_id": data.site_ids[rng.randrange(len(data.site_ids))],
                "requester_name": f"依頼者 {need_id}", "requester_kana": f"いらいしゃ {need_id}",
                "name_key": f"依頼者{need_id}|イライシャ{need_id}",
                "phone": f"086-{need_id:04d}-0000", "phone_key": f"086{need_id:04d}0000",
                "address": f"倉敷市真備町{district}{need_id}",
                "lat": 34.62 + rng.gauss(0, 0.01), "lon": 133.69 + rng.gauss(0, 0.01),
                "district": district, "category": rng.choice(CATEGORIES), "description": "",
                "damage": "above_floor", "people_min": 2, "people_max": 12, "skills": [],
                "priority": "normal", "source": "phone", "status": "received",
                "received_dt": received, "status_dt": received})
            status[need_id] = "received"
            data.event("need.received", received, "need", need_id,
                       {"category": data.needs[-1]["category"], "priority": "normal",
                        "source": "phone", "district": district})
            surveyed = received + timedelta(hours=rng.uniform(1, 20))
            change(need_id, "survey", surveyed)
            roll = rng.random()
            decision = ("cancelled" if roll < 0.04 else "specialist" if roll < 0.07
                        else "on_hold" if roll < 0.09 else "ready")
            data.surveys.append({"need_id": need_id, "surveyor": "調査班",
                                 "surveyed_dt": surveyed, "headcount": 5, "hours": 4.0,
                                 "decision": decision})
            data.event("need.surveyed", surveyed, "need", need_id,
                       {"survey_id": len(data.surveys), "decision": decision, "headcount": 5})
            target = {"specialist": "referred"}.get(decision, decision)
            change(need_id, target, surveyed, reason="survey" if target != "referred" else None)
            if target == "ready":
                surveyed_at.append((surveyed, need_id))
        # Needs surveyed before this morning's teams are formed can be served today.
        morning = at(day, 9.5)
        queue.extend(n for moment, n in sorted(surveyed_at) if moment < morning)
        surveyed_at = [(moment, n) for moment, n in surveyed_at if moment >= morning]
        # --- volunteers: repeat ones from the pool, new ones register this morning
        today_ids: list[int] = []
        chosen: set[int] = set()
        for _ in range(per_day[day - 1]):
            if pool and rng.random() < 0.4:
                vid = rng.choice(pool)
                if vid not in chosen:
                    today_ids.append(vid)
                    chosen.add(vid)
                    continue
            vid = len(data.volunteers) + 1
            group = rng.random() < 0.04
            size = rng.randint(3, 10) if group else 1
            registered = at(day, 7.5)
            if group:
                data.groups.append({"id": len(data.groups) + 1, "operation_id": data.op_id,
                                    "name": f"団体 {vid}", "size": size})
            data.volunteers.append({
                "id": vid, "operation_id": data.op_id, "name": f"ボランティア {vid}",
                "kana": f"ぼらんてぃあ {vid}", "name_key": f"ボランティア{vid}|ボランティア{vid}",
                "phone": f"090-{vid:08d}", "phone_key": f"090{vid:08d}",
                "prefecture": rng.choice(PREFECTURES), "municipality": "某市",
                "birth_year": rng.randint(1950, 2006), "emergency_name": "家族",
                "emergency_phone": "080-0000-0000", "skills": [], "vehicle": "none",
                "insurance": "home", "group_id": len(data.groups) if group else None,
                "registered_via": "pre", "language": "ja", "consent_dt": registered,
                "created_dt": registered})
            data.event("volunteer.registered", registered, "volunteer", vid,
                       {"via": "pre", "group_id": len(data.groups) if group else None,
                        "headcount": size})
            sizes[vid] = size
            pool.append(vid)
            today_ids.append(vid)
            chosen.add(vid)
        arrivals = []
        for vid in today_ids:
            site_id = data.site_ids[rng.randrange(len(data.site_ids))]
            moment = at(day, 8.5 + rng.uniform(0, 1.5))
            headcount = sizes[vid] if sizes[vid] == 1 else rng.randint(2, sizes[vid])
            checkin_id = len(data.checkins) + 1
            data.checkins.append({"id": checkin_id, "operation_id": data.op_id,
                                  "volunteer_id": vid, "site_id": site_id, "day": date_,
                                  "checked_in_dt": moment, "headcount": headcount, "health": {},
                                  "insurance_enrolled_now": False, "method": "scan",
                                  "actor": "user:bench"})
            data.event("volunteer.checked_in", moment, "checkin", checkin_id,
                       {"volunteer_id": vid, "site_id": site_id, "headcount": headcount,
                        "method": "scan"})
            arrivals.append((vid, site_id, headcount))
        # --- teams of about five people: continuing needs first, then ready ones
        rng.shuffle(arrivals)
        carried: deque[int] = deque()   # reported continuing today: served again tomorrow
        while arrivals and (continuing or queue):
            need_id = (continuing or queue).popleft()
            team, people = [], 0
            while arrivals and people < 5:
                vid, site_id, headcount = arrivals.pop()
                team.append((vid, headcount))
                people += headcount
            serve(data, rng, day, date_, need_id, team, site_id, people, change, carried)
        continuing.extend(carried)
    # Needs still waiting at the end wait where they are; some were put on hold by hand.
    for need_id in list(queue)[: len(queue) // 10]:
        change(need_id, "on_hold", at(DAYS, 17), reason="bench")


def serve(data, rng, day, date_, need_id, team, site_id, people, change, continuing):
    """Form, send and bring back one team, with its report, incidents and equipment."""
    team_id = len(data.teams) + 1
    formed = at(day, 9.5 + rng.uniform(0, 0.5))
    dispatched = formed + timedelta(minutes=rng.uniform(10, 40))
    finished = at(day, 14.5 + rng.uniform(0, 0.5))
    returned = finished + timedelta(minutes=rng.uniform(10, 40))
    data.teams.append({"id": team_id, "operation_id": data.op_id, "need_id": need_id,
                       "site_id": site_id, "day": date_, "leader_id": team[0][0],
                       "status": "returned", "transport": "walk", "formed_dt": formed,
                       "due_back_dt": at(day, 15), "dispatched_dt": dispatched,
                       "arrived_dt": dispatched + timedelta(minutes=15),
                       "finished_dt": finished, "returned_dt": returned})
    data.members += [{"team_id": team_id, "volunteer_id": vid, "headcount": h, "active": False}
                     for vid, h in team]
    data.event("team.formed", formed, "team", team_id,
               {"need_id": need_id, "member_ids": [v for v, _ in team],
                "leader_id": team[0][0], "headcount": people})
    change(need_id, "assigned", formed)
    data.event("team.dispatched", dispatched, "team", team_id,
               {"need_id": need_id, "transport": "walk"})
    change(need_id, "in_progress", dispatched)
    data.event("team.on_site", dispatched + timedelta(minutes=15), "team", team_id,
               {"need_id": need_id})
    item = rng.randrange(len(data.item_ids))
    lend(data, team_id, site_id, item, "lend", 5, dispatched)
    if rng.random() < 0.02:
        kind = "injury" if rng.random() < 0.25 else "near_miss"
        moment = dispatched + timedelta(hours=rng.uniform(0.5, 4))
        data.incidents.append({"id": len(data.incidents) + 1, "operation_id": data.op_id,
                               "team_id": team_id, "kind": kind, "severity": "minor",
                               "description": "bench", "reported_dt": moment,
                               "actor": "user:bench"})
        data.event(f"incident.{kind}", moment, "incident", len(data.incidents),
                   {"team_id": team_id, "severity": "minor"})
    data.event("team.finished", finished, "team", team_id, {"need_id": need_id})
    outcome = "continuing" if rng.random() < 0.3 else "completed"
    data.reports.append({"team_id": team_id, "outcome": outcome,
                         "remaining_work": "残り" if outcome == "continuing" else None,
                         "people_next": 5 if outcome == "continuing" else None,
                         "reported_by": "リーダー", "reported_dt": finished})
    data.event("team.reported", finished, "team", team_id,
               {"need_id": need_id, "outcome": outcome,
                "people_next": 5 if outcome == "continuing" else None})
    change(need_id, outcome, finished)
    if outcome == "continuing":
        continuing.append(need_id)
    data.event("team.returned", returned, "team", team_id, {"need_id": need_id})
    back = 5
    if rng.random() < 0.04:
        lend(data, team_id, site_id, item, "lost" if rng.random() < 0.6 else "broken", 1,
             returned)
        back = 4
    lend(data, team_id, site_id, item, "return", back, returned)


def lend(data, team_id, site_id, item, kind, quantity, moment):
    change = {"lend": -quantity, "return": quantity}.get(kind, 0)
    movement_id = len(data.movements) + 1
    data.movements.append({"id": movement_id, "operation_id": data.op_id,
                           "item_type_id": data.item_ids[item], "site_id": site_id,
                           "team_id": team_id, "kind": kind, "quantity": quantity,
                           "on_hand_change": change,
                           "condition": {"return": "good", "broken": "damaged"}.get(kind),
                           "actor": "user:bench", "moved_dt": moment})
    name = {"lend": "equipment.lent", "return": "equipment.returned", "lost": "equipment.lost",
            "broken": "equipment.broken"}[kind]
    data.event(name, moment, "team", team_id,
               {"movement_id": movement_id, "item_type_id": data.item_ids[item],
                "item": ITEMS[item][0], "site_id": site_id, "quantity": quantity,
                "team_id": team_id, "condition": data.movements[-1]["condition"]})


def seed(app, args) -> int:
    """Create the schema with the migrations and insert the operation; return its id."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from dvc.core.clock import VirtualClock
    from dvc.core.events import Event
    from dvc.equipment.models import Movement, Stock
    from dvc.equipment.operations import add_item_type
    from dvc.extensions import db
    from dvc.needs.models import Need, Survey
    from dvc.operations.operations import create_operation
    from dvc.sites.operations import create_site
    from dvc.teams.models import ActivityReport, Incident, Team, TeamMember
    from dvc.volunteers.models import CheckIn, Volunteer, VolunteerGroup

    rng = random.Random(args.seed)
    app.extensions["dvc.clock"] = VirtualClock(utc(OPENED))
    with app.app_context():
        upgrade()
        op = create_operation("倉敷市 平成30年7月豪雨 (bench)", "real", prefecture="岡山県",
                              municipality="倉敷市", actor="bench")
        sites = [create_site(op, name, kind, lat=34.62 + i / 100, lon=133.69, actor="bench")
                 for i, (name, kind) in enumerate(SITES)]
        items = [add_item_type(op, name, unit=unit, actor="bench") for name, unit in ITEMS]
        db.session.flush()
        data = Data(op.id, [s.id for s in sites], [i.id for i in items])
        started = time.perf_counter()
        generate(data, args.checkins, args.needs, rng)
        data.events.sort(key=lambda e: e["scenario_dt"])
        print(f"generated in {time.perf_counter() - started:.1f} s: "
              f"{len(data.volunteers):,} registrations, {len(data.checkins):,} check-ins, "
              f"{len(data.needs):,} needs, {len(data.teams):,} teams, "
              f"{len(data.incidents):,} incidents, {len(data.movements):,} equipment lines, "
              f"{len(data.events):,} events")
        started = time.perf_counter()
        for model, rows in ((VolunteerGroup, data.groups), (Volunteer, data.volunteers),
                            (CheckIn, data.checkins), (Need, data.needs),
                            (Survey, data.surveys), (Team, data.teams),
                            (TeamMember, data.members), (ActivityReport, data.reports),
                            (Incident, data.incidents), (Movement, data.movements),
                            (Event, data.events)):
            for i in range(0, len(rows), 20_000):
                db.session.execute(insert(model), rows[i:i + 20_000])
        db.session.execute(insert(Stock), [{"site_id": s, "item_type_id": i, "on_hand": 500}
                                           for s in data.site_ids for i in data.item_ids])
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        print(f"inserted in {time.perf_counter() - started:.1f} s")
        return op.id


def timed(label: str, fn, runs: int) -> float:
    """Print the median wall time of `runs` runs after a warm-up, and the CPU time this
    process spent (SQLite runs in it): on a busy shared machine the wall time grows, the CPU
    time much less."""
    fn()  # warm up
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    median = statistics.median(walls)
    verdict = "ok" if median < GOAL_S else f"OVER the {GOAL_S:.0f} s goal"
    print(f"  {label:<50} {median * 1000:7.1f} ms  (min {min(walls) * 1000:6.1f}, "
          f"max {max(walls) * 1000:6.1f}; CPU {statistics.median(cpus) * 1000:6.1f} ms)  "
          f"{verdict}")
    return median


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--checkins", type=int, default=60_000)
    parser.add_argument("--needs", type=int, default=8_000)
    args = parser.parse_args(argv)

    from dvc import create_app
    from dvc.core.clock import VirtualClock
    from dvc.extensions import db

    with tempfile.TemporaryDirectory(prefix="dvc-bench-report-") as folder:
        os.environ["DVC_INSTANCE_PATH"] = folder
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-report",
                          "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
        op_id = seed(app, args)
        late = OPENED.date() + timedelta(days=LATE_DAY - 1)
        app.extensions["dvc.clock"] = VirtualClock(at(LATE_DAY, 16))
        print(f"SQLite {Path(url[10:]).stat().st_size / 1e6:.0f} MB; clock at 16:00 on day "
              f"{LATE_DAY} ({late}); median of {args.runs} runs after a warm-up; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs:")
        from dvc.operations.operations import get_operation
        from dvc.reports.daily import build_daily_report
        results = {}
        with app.test_request_context():
            op = get_operation(op_id)
            results["report"] = timed(f"build_daily_report, day {LATE_DAY} (so far)",
                                      lambda: build_daily_report(op, late), args.runs)
            timed(f"build_daily_report, day {LATE_DAY - 1} (whole day)",
                  lambda: build_daily_report(op, late - timedelta(days=1)), args.runs)
            report = build_daily_report(op, late)
            try:
                from dvc.reports.dashboard import dashboard_data
            except ImportError:
                dashboard_data = None
            if dashboard_data is None:
                print("  dashboard_data: missing (dvc/reports/dashboard.py has no "
                      "dashboard_data yet)")
            else:
                results["dashboard"] = timed("dashboard_data(operation)",
                                             lambda: dashboard_data(op), args.runs)
            db.session.remove()
        client = app.test_client()
        timed("GET /api/v1/operations/<op>/stats/daily (HTTP)",
              lambda: _ok(client.get(f"/api/v1/operations/{op_id}/stats/daily"
                                     f"?date={late}")), args.runs)
        _print_figures(report)
        with app.app_context():
            db.engine.dispose()
    return 0


def _ok(response):
    assert response.status_code == 200, response.status_code
    return response


def _print_figures(report) -> None:
    day, total = report.today, report.cumulative
    print(f"day {report.day_number} ({report.day}): volunteers {day.volunteers.people:,} "
          f"({day.volunteers.new:,} new), since opening {total.volunteers.people:,} people-days "
          f"/ {total.volunteers.new:,} people; needs received {total.needs.received:,}, "
          f"completed {total.needs.completed:,}, waiting {report.waiting:,}; teams today "
          f"{day.activity.teams_dispatched:,}, {day.activity.people_hours:,.1f} people-hours; "
          f"since opening {total.activity.teams_dispatched:,} teams, "
          f"{total.activity.people_hours:,.0f} people-hours")


if __name__ == "__main__":
    sys.exit(main())
