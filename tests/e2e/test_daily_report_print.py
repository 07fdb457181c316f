"""The daily report prints on ONE A4 page, in a real browser with every other host aborted,
even with six sites, lost and broken equipment and the longest notes the form takes."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

pytestmark = pytest.mark.e2e

ADMIN, PASSWORD = "admin-e2e", "password-admin"


def pdf_pages(pdf: bytes) -> int:
    """Count the pages of a PDF (Chromium writes one /Type /Page object per page)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.fixture
def busy_day(live_server):
    """Six sites, volunteers at each, needs in every status family, a team out and back with
    equipment lost and broken, an injury, and notes of the maximum length."""
    from dvc.auth.operations import create_user
    from dvc.core.context import today
    from dvc.equipment import operations as eq
    from dvc.extensions import db
    from dvc.needs.operations import NeedInput, change_status, create_need
    from dvc.operations.operations import get_operation
    from dvc.reports.operations import MAX_NOTE_CHARS, save_daily_note
    from dvc.sites.operations import create_site
    from dvc.teams import operations as teams
    from dvc.volunteers.operations import Registration, check_in, register_volunteer

    app, clock = live_server.app, live_server.app.extensions["dvc.clock"]
    with app.app_context():
        create_user(ADMIN, "admin", PASSWORD, display_name="センター長", actor="e2e")
        op = get_operation(live_server.op_id)
        sites = [op.main_site] + [create_site(op, f"第{i}サテライト（{name}）", "satellite",
                                              lat=35.68 + i / 100, lon=139.56, actor="e2e")
                                  for i, name in enumerate(("北町公民館", "南町小学校体育館",
                                                            "東町コミュニティセンター",
                                                            "西町集会所", "中央公園"), 1)]
        ids = []
        for i in range(18):
            volunteer, _ = register_volunteer(op, Registration(
                name=f"ボランティア {i}", kana=f"ぼらんてぃあ {i}", phone=f"090-8000-{i:04d}",
                prefecture="東京都" if i % 3 else "千葉県", municipality="某市",
                birth_year=1980, emergency_name="家族", emergency_phone="080-0000-0000",
                consent=True, insurance="home", insurance_council="某市社協"),
                via="pre", actor="e2e")
            check_in(op, volunteer, site_id=sites[i % len(sites)].id, health_ok=True,
                     insurance_enrolled_now=False, method="scan", actor="e2e")
            ids.append(volunteer.id)
        needs = [create_need(op, NeedInput(requester_name=f"依頼者 {i}",
                                           address=f"テスト市 {i}", category="mud_removal"),
                             actor="e2e") for i in range(7)]
        for need, status in zip(needs, ("ready", "on_hold", "cancelled", "survey")):
            change_status(need, status, actor="e2e")
        shovel = eq.add_item_type(op, "スコップ", unit="本", actor="e2e")
        barrow = eq.add_item_type(op, "一輪車", unit="台", actor="e2e")
        eq.receive_stock(sites[0], shovel, 20, actor="e2e")
        eq.receive_stock(sites[0], barrow, 5, actor="e2e")
        team, _ = teams.form_team(op, needs[0], [ids[0], ids[6]], ids[0], actor="e2e")
        db.session.commit()
        teams.dispatch_team(team, transport="walk", actor="e2e")
        db.session.commit()
        eq.lend_to_team(team, shovel, 3, actor="e2e")
        eq.lend_to_team(team, barrow, 1, actor="e2e")
        clock.advance(timedelta(hours=4))
        teams.report_team(team, outcome="continuing", actor="e2e", reported_by="リーダー",
                          remaining_work="床下", incidents=[
                              {"kind": "injury", "description": "手を切った"},
                              {"kind": "near_miss", "description": "転びかけた"}])
        teams.return_team(team, actor="e2e")
        db.session.commit()
        eq.return_from_team(team, shovel, 2, "lost", actor="e2e")
        eq.return_from_team(team, shovel, 1, "good", actor="e2e")
        eq.return_from_team(team, barrow, 1, "damaged", actor="e2e")
        note = ("本日は北町・南町を中心に活動。午後から雨の予報のため14時30分に活動を終了した。"
                "明日も継続案件が多く、資機材（スコップ・一輪車）の補充を県社協に依頼済み。\n" * 20)
        save_daily_note(op, today(), note[:MAX_NOTE_CHARS], actor="e2e")
        db.session.commit()
    return live_server


def test_daily_report_prints_on_one_a4_page(open_tab, busy_day):
    tab = open_tab()
    tab.sign_in(ADMIN, PASSWORD)
    tab.goto(f"/o/{busy_day.op_id}/reports/daily")
    tab.assert_no_junk()
    rows = tab.page.locator("#daily-report tr[data-figure]").count()
    # 8 volunteer figures, 6 sites, 6 need figures, waiting and its 7 statuses, 8 activity.
    assert rows == 8 + 6 + 6 + 1 + 7 + 8, rows
    assert tab.page.locator("#report-note").inner_text().startswith("本日は北町")
    tab.shot("daily-report-screen")
    tab.page.emulate_media(media="print")
    assert tab.page.locator("#note-form").is_hidden()
    assert tab.page.locator(".topbar").is_hidden()
    pdf = tab.page.pdf(format="A4", print_background=True)
    assert pdf_pages(pdf) == 1, pdf_pages(pdf)
    tab.shot("daily-report-print")
    tab.assert_clean()


def test_public_figures_page_renders_offline_for_anyone(open_tab, busy_day):
    tab = open_tab(viewport={"width": 390, "height": 844}, is_mobile=True)
    tab.goto(f"/o/{busy_day.op_id}/stats")
    tab.assert_no_junk()
    people = tab.page.locator('#stats tr[data-figure="people"] td').all_inner_texts()
    assert people == ["18", "18"]
    text = tab.page.inner_text("body")
    assert "ボランティア 0" not in text and "依頼者" not in text and "手を切った" not in text
    tab.shot("stats-phone")
    tab.assert_clean()
