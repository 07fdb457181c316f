"""The daily report (日報), open data, the prefecture view and exports, against a two-day scenario
built through the real operations on the app's clock, with every figure computed by hand.

The scenario (the `operation` fixture opens it at 09:00 JST on Sun 22 Nov 2026 = day 1, with the
main centre 本部 and the satellite 北サテライト; 東京都 is its prefecture):

Day 1 (11/22)
  check-ins   山田 (東京都) main, 佐藤 (神奈川県) main, group さくら会 (埼玉県, 4 people) main,
              高橋 (大阪府) satellite                          -> 7 people, all new
  needs       N1 青木 received, surveyed (ready, 4 people), merged duplicate N4 of N1 (never
              counted), N2 井上 received and cancelled, N3 上田 received (still open)
  team T1     山田 + 佐藤 to N1, out 10:00, reports "continuing" with an injury, back 14:30
              -> 2 people x 4.5 h = 9.0 people-hours
  equipment   T1 takes 2 shovels, brings 1 back, loses 1
Day 2 (11/23)
  check-ins   山田 main (repeat), さくら会 3 of 4 main (repeat), 田中 (東京都, new) satellite
              -> 5 people, 1 new
  needs       N3 surveyed and referred to specialists; N5 岡田 received, made ready, team T3;
              N6 村上 received, on hold; N7 森 received (still open)
  team T2     山田 + さくら会 (4 people) to N1, out 09:30, near-miss 11:30, finished 13:00 and
              reported completed, never marked back -> 4 x 3.5 h = 14.0 people-hours
  team T3     田中 to N5, out 11:00, never back: counted to now (14:00: 3 h) and, after its
              activity window (15:00), to 15:00 (4 h), and flagged as estimated
  equipment   T2 takes 3 shovels and a wheelbarrow: 1 shovel back, 2 lost, the wheelbarrow
              broken
"""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date, datetime, timedelta, timezone
from html import unescape

import pytest
from sqlalchemy import event, select

from dvc.extensions import db

JST = timezone(timedelta(hours=9))
DAY1, DAY2 = date(2026, 11, 22), date(2026, 11, 23)
REPORT_ROLES = {"admin", "coordinator", "viewer"}
PREFECTURE_ROLES = {"admin", "viewer"}
ADMIN = {"admin"}

VOLUNTEERS = {
    "yamada": dict(name="山田 太郎", kana="やまだ たろう", phone="090-5555-0101",
                   prefecture="東京都", municipality="三鷹市",
                   emergency_name="山田 花子", emergency_phone="080-5555-0102"),
    "sato": dict(name="佐藤 花子", kana="さとう はなこ", phone="090-5555-0201",
                 prefecture="神奈川県", municipality="川崎市",
                 emergency_name="佐藤 一郎", emergency_phone="080-5555-0202"),
    "sakura": dict(name="鈴木 一郎", kana="すずき いちろう", phone="090-5555-0301",
                   prefecture="埼玉県", municipality="所沢市",
                   emergency_name="鈴木 良子", emergency_phone="080-5555-0302",
                   group_name="さくら会", group_size=4,
                   group_members="鈴木 一郎、鈴木 二郎、木村 三郎、木村 四郎"),
    "takahashi": dict(name="高橋 美咲", kana="たかはし みさき", phone="090-5555-0401",
                      prefecture="大阪府", municipality="堺市",
                      emergency_name="高橋 健", emergency_phone="080-5555-0402"),
    "tanaka": dict(name="田中 次郎", kana="たなか じろう", phone="090-5555-0501",
                   prefecture="東京都", municipality="調布市",
                   emergency_name="田中 陽子", emergency_phone="080-5555-0502"),
}
NEEDS = {
    "n1": dict(requester_name="青木 ハル", requester_kana="あおき はる", phone="0422-71-0001",
               address="テスト市本町1-1-1 青木方", lat=35.68123, lon=139.56234,
               description="床上浸水。畳と家具の搬出、床下の泥出し。"),
    "n2": dict(requester_name="井上 ミチ", requester_kana="いのうえ みち", phone="0422-71-0002",
               address="テスト市本町2-2-2", lat=35.68231, lon=139.56342,
               description="庭の片付け"),
    "n3": dict(requester_name="上田 ケン", requester_kana="うえだ けん", phone="0422-71-0003",
               address="テスト市北町3-3-3", lat=35.69877, lon=139.55111,
               description="屋根の瓦がずれている"),
    "n4": dict(requester_name="青木 ハル", requester_kana="あおき はる", phone="0422-71-0004",
               address="テスト市本町1-1-1", lat=35.68124, lon=139.56235,
               description="（重複）息子さんからの電話"),
    "n5": dict(requester_name="岡田 ユキ", requester_kana="おかだ ゆき", phone="0422-71-0005",
               address="テスト市北町5-5-5", lat=35.70012, lon=139.55023,
               description="家財の運び出し"),
    "n6": dict(requester_name="村上 トオル", requester_kana="むらかみ とおる",
               phone="0422-71-0006", address="テスト市南町6-6-6", lat=35.67011, lon=139.57099,
               description="本人入院中のため保留"),
    "n7": dict(requester_name="森 サクラ", requester_kana="もり さくら", phone="0422-71-0007",
               address="テスト市南町7-7-7", lat=35.67122, lon=139.57211,
               description="泥出し"),
}
INJURY = "軍手の上から釘で左手を切った（山田さん）"
NEAR_MISS = "屋根から瓦が落ちかけた"
NOTE = "青木様宅は明日で完了見込み。0422-71-0001 へ連絡済み。"
# Everything personal in the scenario: none of it may reach a public page or API.
SECRETS = sorted({v for person in VOLUNTEERS.values() for k, v in person.items()
                  if k not in ("prefecture", "group_size")}
                 | {v for need in NEEDS.values() for k, v in need.items()
                    if k in ("requester_name", "requester_kana", "phone", "address",
                             "description")}
                 | {INJURY, NEAR_MISS, NOTE}
                 | {n.replace("-", "") for n in
                    [p["phone"] for p in VOLUNTEERS.values()]
                    + [p["emergency_phone"] for p in VOLUNTEERS.values()]
                    + [n["phone"] for n in NEEDS.values()]}
                 | {f"{n[k]:.5f}" for n in NEEDS.values() for k in ("lat", "lon")})


def jst(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=JST).astimezone(timezone.utc)


@pytest.fixture
def scenario(app, clock, operation):
    """Build the two days; return the ids the tests need. The clock ends at 14:00 on day 2."""
    from dvc.equipment import operations as equipment
    from dvc.needs import operations as needs
    from dvc.needs.operations import NeedInput
    from dvc.operations.operations import get_operation
    from dvc.sites.models import Site
    from dvc.teams import operations as teams
    from dvc.volunteers import operations as volunteers
    from dvc.volunteers.operations import Registration

    op_id, main_id, sat_id = operation
    with app.app_context():
        op = get_operation(op_id)
        main, sat = db.session.get(Site, main_id), db.session.get(Site, sat_id)

        def register(key):
            person = VOLUNTEERS[key]
            reg = Registration(**person, birth_year=1980, consent=True, insurance="home",
                               insurance_council="三鷹市社会福祉協議会")
            return volunteers.register_volunteer(op, reg, via="pre", actor="test")[0]

        def check_in(volunteer, site, headcount=None):
            volunteers.check_in(op, volunteer, site_id=site.id, health_ok=True,
                                insurance_enrolled_now=False, method="search", actor="test",
                                headcount=headcount)

        def need(key, **extra):
            return needs.create_need(op, NeedInput(**NEEDS[key], category="mud_removal",
                                                   **extra), actor="test")

        def at(moment):
            """Each step is its own request: commit it, then move the clock."""
            db.session.commit()
            clock.jump(moment)

        # --- day 1 ---
        at(jst(DAY1, 9, 5))
        v = {key: register(key) for key in VOLUNTEERS}
        check_in(v["yamada"], main)
        check_in(v["sato"], main)
        check_in(v["sakura"], main, headcount=4)
        check_in(v["takahashi"], sat)
        at(jst(DAY1, 9, 10))
        n = {key: need(key) for key in ("n1", "n2", "n3", "n4")}
        at(jst(DAY1, 9, 15))
        needs.record_survey(n["n1"], surveyor="調査班", headcount=4, hours=3, decision="ready",
                            actor="test")
        needs.merge_needs(n["n4"], n["n1"], actor="test")
        needs.change_status(n["n2"], "cancelled", actor="test", reason="自力で片付いた")
        shovel = equipment.add_item_type(op, "スコップ", unit="本", actor="test")
        barrow = equipment.add_item_type(op, "一輪車", unit="台", actor="test")
        equipment.receive_stock(main, shovel, 10, actor="test")
        equipment.receive_stock(main, barrow, 2, actor="test")
        at(jst(DAY1, 9, 30))
        t1, _ = teams.form_team(op, n["n1"], [v["yamada"].id, v["sato"].id], v["yamada"].id,
                                actor="test")
        at(jst(DAY1, 10, 0))
        teams.dispatch_team(t1, transport="walk", actor="test")
        equipment.lend_to_team(t1, shovel, 2, actor="test")
        at(jst(DAY1, 14, 0))
        teams.report_team(t1, outcome="continuing", actor="test", reported_by="山田 太郎",
                          remaining_work="床下の泥", people_next=4,
                          incidents=[{"kind": "injury", "description": INJURY}])
        at(jst(DAY1, 14, 30))
        teams.return_team(t1, actor="test")
        at(jst(DAY1, 14, 40))
        equipment.return_from_team(t1, shovel, 1, "good", actor="test")
        equipment.return_from_team(t1, shovel, 1, "lost", actor="test")
        db.session.commit()

        # --- day 2 ---
        at(jst(DAY2, 9, 0))
        check_in(v["yamada"], main)
        check_in(v["sakura"], main, headcount=3)
        check_in(v["tanaka"], sat)
        at(jst(DAY2, 9, 5))
        n.update({key: need(key) for key in ("n5", "n6", "n7")})
        needs.change_status(n["n5"], "ready", actor="test")
        needs.change_status(n["n6"], "on_hold", actor="test", reason="入院中")
        needs.record_survey(n["n3"], surveyor="調査班", headcount=2, hours=2,
                            decision="specialist", actor="test", referred_to="屋根の専門NPO")
        at(jst(DAY2, 9, 20))
        t2, _ = teams.form_team(op, n["n1"], [v["yamada"].id, v["sakura"].id], v["yamada"].id,
                                actor="test")
        t3, _ = teams.form_team(op, n["n5"], [v["tanaka"].id], v["tanaka"].id, actor="test")
        at(jst(DAY2, 9, 30))
        teams.dispatch_team(t2, transport="own_vehicle", actor="test")
        equipment.lend_to_team(t2, shovel, 3, actor="test")
        equipment.lend_to_team(t2, barrow, 1, actor="test")
        at(jst(DAY2, 11, 0))
        teams.dispatch_team(t3, transport="walk", actor="test")
        at(jst(DAY2, 11, 30))
        teams.record_incident(op_id, kind="near_miss", description=NEAR_MISS, actor="test",
                              team=t2)
        at(jst(DAY2, 13, 0))
        teams.finish_team(t2, actor="test")
        teams.report_team(t2, outcome="completed", actor="test", reported_by="山田 太郎")
        equipment.return_from_team(t2, shovel, 1, "good", actor="test")
        equipment.return_from_team(t2, shovel, 2, "lost", actor="test")
        equipment.return_from_team(t2, barrow, 1, "damaged", actor="test")
        at(jst(DAY2, 14, 0))
        db.session.commit()
        return {"op": op_id, "main": main_id, "sat": sat_id,
                "needs": {k: x.id for k, x in n.items()}, "teams": [t1.id, t2.id, t3.id]}


def expected(s: dict, day: int, *, t3_hours: float) -> dict[str, tuple]:
    """Every figure of the report as (this day, since opening), computed by hand."""
    main, sat = f"site_{s['main']}", f"site_{s['sat']}"
    open_statuses = ("received", "survey", "ready", "assigned", "in_progress", "continuing",
                     "on_hold")
    if day == 1:
        waiting = {"received": 1, "continuing": 1}            # N3, N1
        figures = {
            "people": (7, 7), "new": (7, 7), "repeat": (0, 0), "individuals": (3, 3),
            "in_groups": (4, 4), "groups": (1, 1), "in_prefecture": (1, 1),
            "out_of_prefecture": (6, 6), main: (6, 6), sat: (1, 1),
            "received": (3, 3), "surveyed": (1, 1), "completed": (0, 0), "continuing": (1, 1),
            "cancelled": (1, 1), "referred": (0, 0), "waiting": (2, None),
            "teams_dispatched": (1, 1), "people_dispatched": (2, 2), "people_hours": (9.0, 9.0),
            "teams_estimated": (0, 0), "injuries": (1, 1), "near_misses": (0, 0),
            "equipment_lost": (1, 1), "equipment_broken": (0, 0),
        }
    else:
        waiting = {"received": 1, "in_progress": 1, "on_hold": 1}  # N7, N5, N6
        hours = 14.0 + t3_hours
        figures = {
            "people": (5, 12), "new": (1, 8), "repeat": (4, 4), "individuals": (2, 5),
            "in_groups": (3, 7), "groups": (1, 2), "in_prefecture": (2, 3),
            "out_of_prefecture": (3, 9), main: (4, 10), sat: (1, 2),
            "received": (3, 6), "surveyed": (1, 2), "completed": (1, 1), "continuing": (0, 1),
            "cancelled": (0, 1), "referred": (1, 1), "waiting": (3, None),
            "teams_dispatched": (2, 3), "people_dispatched": (5, 7),
            "people_hours": (hours, 9.0 + hours), "teams_estimated": (1, 1),
            "injuries": (0, 1), "near_misses": (1, 1),
            "equipment_lost": (2, 3), "equipment_broken": (1, 1),
        }
    for status in open_statuses:
        figures[f"waiting_{status}"] = (waiting.get(status, 0), None)
    return figures


def report_of(app, op_id: int, day: date):
    from dvc.operations.operations import get_operation
    from dvc.reports.daily import build_daily_report
    with app.app_context():
        return build_daily_report(get_operation(op_id), day)


def rows_of(app, op_id, day):
    from dvc.reports.table import report_rows
    report = report_of(app, op_id, day)
    with app.test_request_context():
        return report, {r.key: (r.day, r.cumulative) for r in report_rows(report)}


# --- every figure ------------------------------------------------------------------------

def test_day_one_every_figure_matches_the_hand_count(app, scenario):
    report, figures = rows_of(app, scenario["op"], DAY1)
    assert figures == expected(scenario, 1, t3_hours=0)
    assert report.day_number == 1 and report.complete
    assert [(x.item, x.kind, x.day, x.cumulative) for x in report.losses] == [
        ("スコップ", "lost", 1, 1)]


def test_day_two_so_far_counts_a_team_still_out_to_now(app, scenario):
    """At 14:00 on day 2 the report is "so far": T3 has been out 3 hours."""
    report, figures = rows_of(app, scenario["op"], DAY2)
    assert figures == expected(scenario, 2, t3_hours=3.0)
    assert report.day_number == 2 and not report.complete
    assert report.as_of == jst(DAY2, 14, 0)


def test_day_two_after_the_day_counts_a_team_never_back_to_its_window(app, clock, scenario):
    """The next morning T3 has still not been marked back: its hours stop at 15:00, not now."""
    clock.jump(jst(DAY2 + timedelta(days=1), 10, 0))
    report, figures = rows_of(app, scenario["op"], DAY2)
    assert figures == expected(scenario, 2, t3_hours=4.0)
    assert report.complete
    assert sorted((x.item, x.kind, x.day, x.cumulative) for x in report.losses) == [
        ("スコップ", "lost", 2, 3), ("一輪車", "broken", 1, 1)]


def test_cumulative_received_is_completed_cancelled_referred_and_waiting(app, scenario):
    for day in (DAY1, DAY2):
        report = report_of(app, scenario["op"], day)
        needs = report.cumulative.needs
        assert needs.received == (needs.completed + needs.cancelled + needs.referred
                                  + report.waiting)


def test_a_past_day_is_computed_from_the_log_not_from_todays_statuses(app, scenario):
    """On day 2 N1 is completed and N3 referred, yet day 1 still shows them open then."""
    from dvc.needs.models import Need
    with app.app_context():
        now_status = {k: db.session.get(Need, i).status for k, i in scenario["needs"].items()}
    assert now_status["n1"] == "completed" and now_status["n3"] == "referred"
    report = report_of(app, scenario["op"], DAY1)
    assert report.waiting_by_status["continuing"] == 1 and report.waiting_by_status["received"] == 1


def test_the_report_takes_the_same_number_of_queries_whatever_the_rows(app, clock, scenario,
                                                                      register, client):
    """One query per family of figures: more check-ins, needs and events add no queries."""
    def count_queries():
        with app.app_context():
            statements = []
            listener = lambda *args: statements.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                from dvc.operations.operations import get_operation
                from dvc.reports.daily import build_daily_report
                build_daily_report(get_operation(scenario["op"]), DAY2)
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            # SQLite's BEGIN goes through the cursor too (dvc/web.py); PostgreSQL's does not.
            return len([s for s in statements if not s.startswith("BEGIN")])

    before = count_queries()
    desk = {"Authorization": "Bearer " + _token(app, "reception")}
    for i in range(6):
        body = register(phone=f"090-7777-{i:04d}", name=f"追加 {i}", kana=f"ついか {i}")
        assert client.post(f"/api/v1/operations/{scenario['op']}/checkins", headers=desk,
                           json={"code": body["code"], "site_id": scenario["sat"],
                                 "health_ok": True}).status_code == 201
    after = count_queries()
    assert report_of(app, scenario["op"], DAY2).today.volunteers.people == 11
    # The operation with its sites, the day's notes and nine figure queries: volunteers, needs
    # received, surveyed, the day's outcomes, continuing, statuses, teams, incidents, equipment.
    assert before == after == 11


def _token(app, role):
    from dvc.auth.operations import create_user, issue_token
    with app.app_context():
        user = create_user(f"tok-{role}", role, "password-xyz", actor="test")
        token = issue_token(user, actor="test")
        db.session.commit()
        return token


# --- the page, its files and the notes ------------------------------------------------------

def page_figures(html: str) -> dict[str, tuple]:
    """Read (this day, since opening) of every figure row of a report page."""
    found = {}
    for key, day, cumulative in re.findall(
            r'<tr data-figure="([^"]+)"[^>]*>\s*<th[^>]*>.*?</th>\s*<td[^>]*>([^<]*)</td>\s*'
            r'<td[^>]*>([^<]*)</td>', html, re.S):
        found[key] = (_number(day), None if cumulative.strip() == "—" else _number(cumulative))
    return found


def _number(text: str):
    value = float(text.strip())
    return int(value) if value.is_integer() and "." not in text else value


def test_page_shows_every_figure_and_prints_on_a4(clients, scenario):
    page = clients["viewer"].get(f"/o/{scenario['op']}/reports/daily?date=2026-11-22&lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert page_figures(html) == expected(scenario, 1, t3_hours=0)
    assert "Day 1 of the operation" in html and "Whole day" in html
    assert "/static/css/report.css" in html
    with clients["viewer"].get("/static/css/report.css") as css:
        assert "size: A4" in css.get_data(as_text=True)
    assert 'name="text"' not in html  # the notes form is the head's alone


def test_page_defaults_to_today_and_says_so_far(clients, scenario):
    html = clients["coordinator"].get(f"/o/{scenario['op']}/reports/daily?lang=en").get_data(
        as_text=True)
    assert 'data-day="2026-11-23"' in html and "So far: as of 14:00" in html
    assert page_figures(html)["people"] == (5, 12)


@pytest.mark.parametrize("query, message", [
    ("date=2026-11-21", "The operation opened on 2026-11-22"),
    ("date=2026-11-24", "That day has not come yet."),
    ("date=22/11/2026", "Give the date as YYYY-MM-DD."),
])
def test_days_outside_the_operation_are_refused(clients, scenario, query, message):
    response = clients["admin"].get(f"/o/{scenario['op']}/reports/daily?{query}&lang=en")
    assert response.status_code == 422
    assert message in unescape(response.get_data(as_text=True))


def test_csv_has_a_bom_and_the_same_figures(clients, scenario):
    response = clients["viewer"].get(f"/o/{scenario['op']}/reports/daily.csv?date=2026-11-22")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert lines[0][0] == "日報" and lines[1][1] == "2026-11-22"
    figures = {line[4]: (_number(line[2]), _number(line[3]) if line[3] else None)
               for line in lines if len(line) == 5 and line[4] not in ("コード", "lost")}
    assert figures == expected(scenario, 1, t3_hours=0)
    assert ["紛失", "スコップ (本)", "1", "1", "lost"] in lines


def test_excel_opens_with_openpyxl_and_has_the_same_figures(clients, scenario):
    from openpyxl import load_workbook
    response = clients["coordinator"].get(
        f"/o/{scenario['op']}/reports/daily.xlsx?date=2026-11-23")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.get_data()))
    sheet = book.active
    assert sheet.title == "2026-11-23"
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4
    assert sheet.page_setup.fitToHeight == 1
    rows = [r for r in sheet.iter_rows(values_only=True)]
    figures = {r[4]: (r[2], r[3] if r[3] not in ("", None) else None) for r in rows
               if len(r) >= 5 and r[4] and r[4] not in ("コード", "lost", "broken")}
    assert figures == expected(scenario, 2, t3_hours=3.0)


def test_admin_writes_the_notes_they_print_and_are_logged(app, clients, scenario):
    from dvc.core.events import Event
    url = f"/o/{scenario['op']}/reports/daily"
    admin = clients["admin"]
    assert 'name="text"' in admin.get(f"{url}?date=2026-11-22").get_data(as_text=True)
    saved = admin.post(f"{url}/note?date=2026-11-22", data={"text": NOTE})
    assert saved.status_code == 302 and "date=2026-11-22" in saved.location
    assert NOTE in clients["viewer"].get(f"{url}?date=2026-11-22").get_data(as_text=True)
    assert NOTE not in clients["viewer"].get(f"{url}?date=2026-11-23").get_data(as_text=True)
    lines = clients["viewer"].get(f"{url}.csv?date=2026-11-22").get_data().decode("utf-8-sig")
    assert NOTE in lines
    assert admin.post(f"{url}/note?date=2026-11-22", data={"text": "訂正"}).status_code == 302
    with app.app_context():
        logged = db.session.scalars(select(Event).where(Event.kind == "report.note_saved")
                                    .order_by(Event.id)).all()
        from dvc.reports.models import DailyNote
        notes = db.session.scalars(select(DailyNote)).all()
    assert [e.payload for e in logged] == [{"day": "2026-11-22", "chars": len(NOTE)},
                                          {"day": "2026-11-22", "chars": 2}]
    assert all(NOTE not in json.dumps(e.payload, ensure_ascii=False) for e in logged)
    assert [(n.day, n.text, n.actor) for n in notes] == [(DAY1, "訂正", "user:admin-user")]


def test_notes_too_long_for_the_page_are_refused_and_kept_in_the_form(clients, scenario):
    url = f"/o/{scenario['op']}/reports/daily/note?date=2026-11-22&lang=en"
    response = clients["admin"].post(url, data={"text": "あ" * 801})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "あ" * 801 in html and 'class="field-error"' in html


# --- open data: counts only -----------------------------------------------------------------

def test_stats_api_is_public_and_has_the_public_figures(client, scenario):
    response = client.get(f"/api/v1/operations/{scenario['op']}/stats/daily?date=2026-11-22")
    assert response.status_code == 200
    data = response.get_json()
    assert data["date"] == "2026-11-22" and data["day_number"] == 1 and data["complete"]
    assert data["day"]["volunteers"] == {
        "people": 7, "new": 7, "repeat": 0, "individuals": 3, "in_groups": 4, "groups": 1,
        "in_prefecture": 1, "out_of_prefecture": 6,
        "by_site": [{"site_id": scenario["main"], "name": "本部", "kind": "main", "people": 6},
                    {"site_id": scenario["sat"], "name": "北サテライト", "kind": "satellite",
                     "people": 1}]}
    assert data["day"]["needs"] == {"received": 3, "surveyed": 1, "completed": 0,
                                    "continuing": 1, "cancelled": 1, "referred": 0}
    assert data["day"]["activity"] == {"teams_dispatched": 1, "people_dispatched": 2,
                                       "people_hours": 9.0}
    assert data["needs_waiting"] == 2
    day2 = client.get(f"/api/v1/operations/{scenario['op']}/stats/daily?date=2026-11-23")
    assert day2.get_json()["since_opening"]["volunteers"]["people"] == 12
    assert day2.get_json()["since_opening"]["needs"]["received"] == 6


def test_stats_api_refuses_a_bad_date_with_the_field(client, scenario):
    bad = client.get(f"/api/v1/operations/{scenario['op']}/stats/daily?date=yesterday")
    assert bad.status_code == 422 and "date" in bad.get_json()["fields"]
    early = client.get(f"/api/v1/operations/{scenario['op']}/stats/daily?date=2026-01-01")
    assert early.status_code == 422 and early.get_json()["fields"] == {"date": "before_opening"}
    assert client.get("/api/v1/operations/999999/stats/daily").status_code == 404


def test_stats_api_is_documented_in_openapi(client):
    spec = client.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/operations/{op_id}/stats/daily"]["get"]
    assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == ["date"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/DailyStatsOut")
    fields = spec["components"]["schemas"]["DailyStatsOut"]["properties"]
    assert {"day", "since_opening", "needs_waiting"} <= set(fields)


def test_stats_page_is_public_and_shows_counts_only(client, scenario):
    response = client.get(f"/o/{scenario['op']}/stats?date=2026-11-23&lang=en")
    assert response.status_code == 200
    figures = page_figures(response.get_data(as_text=True))
    assert figures["people"] == (5, 12) and figures["received"] == (3, 6)
    assert figures["waiting"] == (3, None)
    assert not {"injuries", "near_misses", "equipment_lost", "teams_estimated"} & set(figures)


def test_no_personal_data_in_any_public_output(app, clients, scenario):
    """Scan the stats page, the stats API and the recruitment page and API, in every language
    and for both days, for every name, phone, address and free text of the scenario."""
    clients["admin"].post(f"/o/{scenario['op']}/reports/daily/note?date=2026-11-22",
                          data={"text": NOTE})
    anonymous = clients[None]
    op = scenario["op"]
    outputs = {}
    for lang in ("ja", "en"):
        for day in ("2026-11-22", "2026-11-23"):
            outputs[f"stats {lang} {day}"] = anonymous.get(f"/o/{op}/stats?date={day}&lang={lang}")
            outputs[f"api {day}"] = anonymous.get(f"/api/v1/operations/{op}/stats/daily?date={day}")
        outputs[f"recruitment {lang}"] = anonymous.get(f"/o/{op}/recruitment?lang={lang}")
    outputs["recruitment api"] = anonymous.get(f"/api/v1/operations/{op}/recruitment")
    for name, response in outputs.items():
        assert response.status_code == 200, name
        text = unescape(response.get_data(as_text=True))
        text += json.dumps(response.get_json(silent=True) or {}, ensure_ascii=False)
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, (name, leaked)
    # The scan can fail: the staff report shows the note, which names a requester and a phone.
    staff = unescape(clients["admin"].get(f"/o/{op}/reports/daily?date=2026-11-22")
                     .get_data(as_text=True))
    assert NOTE in staff and any(s in staff for s in SECRETS)


# --- the prefecture view ----------------------------------------------------------------------

def test_prefecture_view_puts_every_open_operation_side_by_side(app, clients, scenario):
    from dvc.operations.operations import create_operation
    with app.app_context():
        other = create_operation("隣市 豪雨災害", "real", prefecture="東京都", municipality="隣市",
                                 actor="test")
        closed = create_operation("昨年の災害", "real", actor="test")
        closed.status = "closed"
        db.session.commit()
        other_id, closed_id = other.id, closed.id
    page = clients["viewer"].get("/prefecture?lang=en").get_data(as_text=True)
    columns = re.findall(r'data-operation="(\d+)"', page)
    assert columns == [str(scenario["op"]), str(other_id)]
    assert str(closed_id) not in columns
    rows = {key: [c.strip() for c in re.findall(r'<td class="num">([^<]*)</td>', row)]
            for key, row in re.findall(r'<tr data-figure="([^"]+)">(.*?)</tr>', page, re.S)}
    assert rows["volunteers"] == ["5", "0"]
    assert rows["volunteers_total"] == ["12", "0"]
    assert rows["needs_waiting"] == ["3", "0"]
    assert rows["people_hours"] == ["17.0", "0.0"]
    assert rows["near_misses"] == ["1", "0"]


# --- exports for the records ------------------------------------------------------------------

def test_needs_geopackage_opens_with_geopandas_full_and_anonymised(app, clients, scenario,
                                                                  tmp_path):
    import geopandas
    admin = clients["admin"]
    full = admin.get(f"/o/{scenario['op']}/export/needs.gpkg")
    assert full.status_code == 200
    (tmp_path / "full.gpkg").write_bytes(full.get_data())
    frame = geopandas.read_file(tmp_path / "full.gpkg", layer="needs")
    assert len(frame) == 7 and frame.crs.to_epsg() == 4326
    by_number = frame.set_index("number")
    n1 = by_number.loc[f"N{scenario['needs']['n1']:05d}"]
    assert n1["requester_name"] == "青木 ハル" and n1["status"] == "completed"
    assert (n1.geometry.x, n1.geometry.y) == (139.56234, 35.68123)

    anonymous = admin.get(f"/o/{scenario['op']}/export/needs.gpkg?anonymised=1")
    (tmp_path / "anon.gpkg").write_bytes(anonymous.get_data())
    frame = geopandas.read_file(tmp_path / "anon.gpkg", layer="needs")
    assert len(frame) == 7
    assert not {"requester_name", "phone", "address", "description", "elderly"} & set(frame)
    for point, (key, need) in zip(frame.sort_values("id").geometry, NEEDS.items()):
        assert point.x == round(need["lon"], 3) and point.y == round(need["lat"], 3)
        assert abs(point.y - need["lat"]) * 111_000 < 60  # within ~100 m, not the house
    raw = anonymous.get_data()
    leaked = [s for s in SECRETS if s.encode() in raw]
    assert not leaked


def test_operation_zip_has_checkins_teams_events_and_needs(app, clients, scenario, tmp_path):
    import geopandas
    response = clients["admin"].get(f"/o/{scenario['op']}/export/operation.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert sorted(archive.namelist()) == ["checkins.csv", "events.csv", "needs.gpkg",
                                         "teams.csv"]
    checkins = list(csv.reader(io.StringIO(archive.read("checkins.csv").decode("utf-8-sig"))))
    assert archive.read("checkins.csv").startswith(b"\xef\xbb\xbf")
    assert len(checkins) == 1 + 7 and "山田 太郎" in {c[4] for c in checkins}
    teams = list(csv.reader(io.StringIO(archive.read("teams.csv").decode("utf-8-sig"))))
    assert [t[0] for t in teams[1:]] == [f"T{i:04d}" for i in scenario["teams"]]
    events = list(csv.reader(io.StringIO(archive.read("events.csv").decode("utf-8-sig"))))
    kinds = [e[4] for e in events[1:]]
    assert kinds.count("volunteer.checked_in") == 7 and kinds.count("need.received") == 7
    assert [int(e[0]) for e in events[1:]] == sorted(int(e[0]) for e in events[1:])
    (tmp_path / "needs.gpkg").write_bytes(archive.read("needs.gpkg"))
    assert len(geopandas.read_file(tmp_path / "needs.gpkg")) == 7


def test_anonymised_zip_holds_no_personal_data(clients, scenario):
    response = clients["admin"].get(f"/o/{scenario['op']}/export/operation.zip?anonymised=1")
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    for name in archive.namelist():
        raw = archive.read(name)
        text = raw.decode("utf-8-sig") if name.endswith(".csv") else ""
        leaked = [s for s in SECRETS if s.encode() in raw or s in text]
        assert not leaked, (name, leaked)
        assert b"admin-user" not in raw and b"user:test" not in raw
    checkins = archive.read("checkins.csv").decode("utf-8-sig")
    assert "東京都" in checkins and "G" in checkins  # prefecture and group kept, as codes


# --- who may do what --------------------------------------------------------------------------

@pytest.mark.parametrize("path, allowed", [
    ("/o/{op}/reports/daily", REPORT_ROLES),
    ("/o/{op}/reports/daily.csv", REPORT_ROLES),
    ("/o/{op}/reports/daily.xlsx", REPORT_ROLES),
    ("/prefecture", PREFECTURE_ROLES),
    ("/o/{op}/export", ADMIN),
    ("/o/{op}/export/needs.gpkg", ADMIN),
    ("/o/{op}/export/needs.gpkg?anonymised=1", ADMIN),
    ("/o/{op}/export/operation.zip", ADMIN),
    ("/o/{op}/stats", None),
    ("/api/v1/operations/{op}/stats/daily", None),
])
def test_pages_and_files_for_their_roles_only(clients, operation, path, allowed):
    for role, client in clients.items():
        response = client.get(path.format(op=operation[0]))
        if allowed is None or role in allowed:
            assert response.status_code == 200, (role, path, response.status_code)
        elif role is None:
            assert response.status_code == 302 and "/login" in response.location, path
        else:
            assert response.status_code == 403, (role, path, response.status_code)


def test_only_the_head_of_the_centre_writes_notes(clients, operation):
    url = f"/o/{operation[0]}/reports/daily/note"
    for role, client in clients.items():
        response = client.post(url, data={"text": "メモ"})
        if role == "admin":
            assert response.status_code == 302 and "/login" not in response.location
        else:
            assert response.status_code in (302, 403) and (
                response.status_code == 403 or "/login" in response.location), role


def test_nav_links_follow_the_roles(clients, operation):
    daily = f'href="/o/{operation[0]}/reports/daily"'
    export = f'href="/o/{operation[0]}/export"'
    prefecture = 'href="/prefecture"'
    pages = {role: clients[role].get(f"/o/{operation[0]}").get_data(as_text=True)
             for role in ("admin", "coordinator", "viewer", "reception", "needs_intake")}
    assert all(link in pages["admin"] for link in (daily, export, prefecture))
    assert daily in pages["coordinator"] and prefecture not in pages["coordinator"]
    assert daily in pages["viewer"] and prefecture in pages["viewer"]
    assert export not in pages["viewer"] and export not in pages["coordinator"]
    assert not any(link in pages[r] for r in ("reception", "needs_intake")
                   for link in (daily, export, prefecture))
