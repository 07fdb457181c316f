"""The drill's pages: the scenarios and the start form, the trainer's console, each desk's inbox,
the reception queue, and the live 訓練 / DRILL banner; controllers' notes stay with trainers."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from dvc.drills.operations import read_scenario
from dvc.drills.scenario import loads
from dvc.extensions import db
from dvc.needs.models import Need

SCENARIO = "earthquake-setup"
NOTES = [i.notes for i in loads(read_scenario(SCENARIO)).injects if i.notes]
PLAYERS = ("coordinator", "reception", "needs_intake", "equipment")


@pytest.fixture
def drill(client, token_for):
    """A drill of the earthquake set-up scenario, its clock run to 10:00 (an hour in)."""
    trainer = token_for("trainer")
    op = client.post("/api/v1/drills", json={"scenario": SCENARIO},
                     headers=trainer).json["operation_id"]
    for body in ({"action": "start"}, {"action": "jump", "to": "2026-09-01T10:00:00+09:00"}):
        answer = client.post(f"/api/v1/operations/{op}/drill/clock", json=body, headers=trainer)
        assert answer.status_code == 200, answer.text
    return op


def page(client, url: str, status: int = 200) -> str:
    answer = client.get(url)
    assert answer.status_code == status, (url, answer.status_code)
    return answer.get_data(as_text=True)


def test_notes_are_in_the_scenario_used_here():
    assert len(NOTES) >= 5


def test_the_drills_page_lists_the_shipped_scenarios_for_trainers(clients):
    html = page(clients["trainer"], "/drills")
    for title in ("地震発生3日後", "豪雨", "停電"):
        assert title in html
    assert html.count('name="scenario"') == 3
    assert 'href="/drills"' in re.search(r"<nav.*?</nav>", html, re.S).group(0)  # the nav link
    for role in PLAYERS:
        assert clients[role].get("/drills").status_code == 403
        assert 'href="/drills"' not in re.search(r"<nav.*?</nav>", page(clients[role], "/"),
                                                 re.S).group(0)


def test_starting_a_drill_opens_its_console_and_lists_it(clients):
    trainer = clients["trainer"]
    answer = trainer.post("/drills", data={"scenario": SCENARIO, "speed": "600", "seed": "7"})
    assert answer.status_code == 302 and answer.location.endswith("/drill/console")
    op = int(re.search(r"/o/(\d+)/drill/console", answer.location).group(1))
    console = page(trainer, answer.location)
    assert "×600" in console and "Asia/Tokyo" in console
    listing = page(trainer, "/drills")
    assert f'data-op="{op}"' in listing and f"/o/{op}/drill/console" in listing


@pytest.mark.parametrize("data, field", [
    ({"scenario": "../../etc/passwd"}, "scenario"),
    ({"scenario": SCENARIO, "speed": "900"}, "speed"),
    ({"scenario": SCENARIO, "seed": "-1"}, "seed"),
])
def test_a_bad_start_is_refused_beside_its_form(clients, data, field):
    answer = clients["trainer"].post("/drills?lang=en", data=data)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'class="field-error"' in html
    assert "/drill/console" not in html


def test_the_console_shows_the_clock_timeline_notes_and_metrics(clients, drill):
    html = page(clients["trainer"], f"/o/{drill}/drill/console")
    assert "10:00:00" in html                       # the scenario clock, in its time zone
    for note in NOTES:
        assert note in html                         # controllers' notes: trainers only
    assert 'data-n="2"' in html and 'data-n="21"' in html
    assert 'data-m="checkin_wait"' in html and 'data-o="open-reception"' in html
    assert "js/drillconsole.js" in html
    for role in PLAYERS:
        assert clients[role].get(f"/o/{drill}/drill/console").status_code == 403


def test_players_never_see_controller_notes(clients, drill):
    for role in PLAYERS:
        client = clients[role]
        pages = [page(client, f"/o/{drill}/drill/inbox"), page(client, f"/o/{drill}")]
        if role in ("reception", "coordinator"):
            pages.append(page(client, f"/o/{drill}/drill/queue"))
        messages = [client.get(f"/api/v1/operations/{drill}/drill/messages?desk={desk}")
                    for desk in ("", "needs", "general", "reception")]
        assert all(m.status_code == 200 for m in messages)
        assert any(m.json["messages"] for m in messages)
        text = "".join(pages) + "".join(m.get_data(as_text=True) for m in messages)
        for note in NOTES:
            assert note not in text, (role, note)
        assert clients[role].get(f"/api/v1/operations/{drill}/drill/timeline").status_code == 403


def test_the_inbox_lets_a_desk_choose_and_defaults_to_its_role(clients, drill):
    html = page(clients["needs_intake"], f"/o/{drill}/drill/inbox")
    assert '<option value="needs" selected>ニーズ</option>' in html
    assert "js/drillinbox.js" in html
    assert clients["viewer"].get(f"/o/{drill}/drill/inbox").status_code == 403


def test_every_page_of_a_drill_shows_the_live_banner(app, clients, drill):
    with app.app_context():
        need = db.session.scalar(select(Need.id).where(Need.operation_id == drill).limit(1))
    for url in (f"/o/{drill}", f"/o/{drill}/needs", f"/o/{drill}/needs/{need}",
                f"/o/{drill}/drill/inbox"):
        html = page(clients["coordinator"], url)
        banner = re.search(r'<div class="drill-banner" id="drill-banner"[^>]*>', html).group(0)
        assert "訓練 / DRILL" in html and f'data-op="{drill}"' in banner, url
        assert "js/drillbanner.js" in html, url
        assert re.search(r'data-b="clock"[^>]*>10:00<', html), url  # the scenario clock
        assert f"/o/{drill}/drill/inbox" in html
        assert f"/o/{drill}/drill/console" not in html  # the console link is for trainers
    trainer = page(clients["trainer"], f"/o/{drill}/drill/inbox")
    assert f"/o/{drill}/drill/console" in trainer


def test_the_drill_pages_run_no_inline_script_or_style(clients, drill):
    """A strict CSP holds: scripts come from static/js, inline blocks are JSON data only."""
    for role, path in (("trainer", "drill/console"), ("needs_intake", "drill/inbox"),
                       ("reception", "drill/queue"), ("coordinator", "needs")):
        html = page(clients[role], f"/o/{drill}/{path}")
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
            assert 'src="/static/js/' in attrs or 'type="application/json"' in attrs, attrs
        assert not re.search(r"<[^>]+\s(style|on[a-z]+)=", html), path
    trainer = page(clients["trainer"], "/drills")
    assert not re.search(r"<[^>]+\s(style|on[a-z]+)=", trainer)


def test_a_visitor_sees_the_drill_mark_without_the_live_banner(clients, drill):
    html = page(clients[None], f"/o/{drill}/recruitment")
    assert "訓練 / DRILL" in html
    assert "drillbanner.js" not in html and 'data-b="clock"' not in html


def test_a_real_operation_shows_no_banner_and_its_drill_pages_are_404(clients, operation):
    op_id, *_ = operation
    assert "drill-banner" not in page(clients["coordinator"], f"/o/{op_id}")
    for role, path in (("trainer", "console"), ("needs_intake", "inbox"),
                       ("reception", "queue")):
        answer = clients[role].get(f"/o/{op_id}/drill/{path}?lang=en")
        assert answer.status_code == 404
        assert "This operation is not a drill." in answer.get_data(as_text=True)


def test_the_queue_shows_arrivals_with_their_codes_and_checks_them_in(app, clients, drill):
    reception = clients["reception"]
    html = page(reception, f"/o/{drill}/drill/queue")
    codes = re.findall(r'data-code="([^"]+)"', html)
    assert codes and "<svg" in html
    rows = page(reception, f"/o/{drill}/drill/queue?part=rows")
    assert rows.lstrip().startswith("<tbody") and 'data-count="' in rows
    waiting = int(re.search(r'data-count="(\d+)"', rows).group(1))
    site = re.search(r'data-code="%s" data-site="(\d*)"' % re.escape(codes[0]), html).group(1)
    answer = reception.post(f"/api/v1/operations/{drill}/checkins", json={
        "code": codes[0], "site_id": int(site), "health_ok": True,
        "insurance_enrolled_now": True, "method": "scan"})
    assert answer.status_code == 201, answer.text
    after = page(reception, f"/o/{drill}/drill/queue?part=rows")
    assert codes[0] not in after
    assert int(re.search(r'data-count="(\d+)"', after).group(1)) == waiting - 1
    trainer = page(clients["trainer"], f"/o/{drill}/drill/queue")
    assert "data-code=" not in trainer               # the trainer watches: no check-in form
    assert clients["needs_intake"].get(f"/o/{drill}/drill/queue").status_code == 403
