"""Closing an operation, and `flask purge`: no name, phone or address of a closed operation is
left anywhere in the database after PERSONAL_DATA_DAYS, and the daily figures are unchanged."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import MetaData, Table, func, select

from dvc.extensions import db
from tests.conftest import T0


@dataclass(frozen=True)
class Person:
    """The distinctive personal data of one operation, and how to find any trace of it."""

    tag: str      # a kanji pair used in every name and address of this operation
    kana: str     # its reading in hiragana
    katakana: str
    digits: str   # 4 digits used in every phone number

    def phone(self, prefix: str, n: int) -> str:
        return f"{prefix}-{self.digits}-{n:04d}"

    @property
    def email(self) -> str:
        return f"gonbe{self.digits}@example.jp"

    def needles(self) -> list[str]:
        phones = [self.phone(p, n) for p, n in (("090", 1), ("080", 2), ("03", 3), ("070", 4),
                                                  ("090", 6), ("03", 5))]
        return [self.tag, self.kana, self.katakana, self.email, *phones,
                *(p.replace("-", "") for p in phones)]


PURGED = Person("鳳凰", "ほうおう", "ホウオウ", "1357")
OPEN = Person("麒麟", "きりん", "キリン", "2468")
RECENT = Person("玄武", "げんぶ", "ゲンブ", "3579")
PNG = io.BytesIO()
Image.new("RGB", (4, 4), "red").save(PNG, "PNG")


def _build(person: Person, clock) -> int:
    """An operation over two days whose every free field carries this person's data."""
    from dvc.core.events import log_event
    from dvc.equipment.operations import add_item_type, receive_stock
    from dvc.needs.operations import NeedInput, add_photo, change_status, create_need, move_need
    from dvc.needs.operations import record_survey
    from dvc.operations.operations import create_operation
    from dvc.shelters.operations import create_shelter
    from dvc.sites.operations import create_site, update_site
    from dvc.teams.operations import dispatch_team, form_team, recall_all, report_team, return_team
    from dvc.volunteers.operations import Registration, check_in, register_volunteer
    p = person
    clock.jump(T0)
    op = create_operation(f"作戦 {p.digits[0]}", "real", prefecture="東京都", municipality="テスト市",
                          actor="test")
    site = create_site(op, "本部", "main", lat=35.68, lon=139.56, actor="test")
    update_site(site, {"staff": f"{p.tag} 所長、{p.tag} 副所長"}, actor="test")
    create_shelter(op, {"name": "福祉センター", "lat": 35.69, "lon": 139.57, "capacity": 10,
                        "address": "テスト市 中央 1-1",
                        "contact": f"{p.tag} 施設長 {p.phone('03', 5)}"}, actor="test")

    def register(i: int, **extra):
        reg = Registration(
            name=f"{p.tag} 権兵衛{i}", kana=f"{p.kana} ごんべえ{i}",
            phone=p.phone("090", 1) if i == 1 else p.phone("090", 6),
            email=p.email if i == 1 else None, prefecture="東京都" if i == 1 else "神奈川県",
            municipality=f"{p.tag}町", birth_year=1987, emergency_name=f"{p.tag} 花子{i}",
            emergency_phone=p.phone("080", 2), consent=True, insurance="home",
            insurance_council=f"{p.tag}町社会福祉協議会", skills=["driving"], **extra)
        return register_volunteer(op, reg, via="pre", actor="public")[0]

    leader = register(1)
    grouped = register(2, group_name=f"{p.tag}一家", group_size=3,
                       group_members=f"{p.tag} 太郎、{p.tag} 次郎")
    for v in (leader, grouped):
        check_in(op, v, site_id=site.id, health_ok=True, insurance_enrolled_now=False,
                 method="scan", actor="user:desk", health={"feeling_well": True,
                                                           "note": f"{p.tag} 腰痛"})
    need = create_need(op, NeedInput(
        requester_name=f"{p.tag}堂 雅", requester_kana=f"{p.kana}どう みやび",
        phone=p.phone("03", 3), phone2=p.phone("070", 4), address=f"幻市 {p.tag}町 1-2-3",
        category="mud_removal", description=f"{p.tag}堂さんの母屋の泥出し",
        equipment_wanted=f"{p.tag}用スコップ", district="北地区", lat=35.681234, lon=139.561234,
        elderly=True), actor="user:intake")
    other = create_need(op, NeedInput(requester_name=f"{p.tag}川 一", address=f"{p.tag}町 9",
                                      category="tidying", district="南地区"), actor="user:intake")
    move_need(need, 35.682345, 139.562345, actor="user:intake")
    survey = record_survey(need, surveyor=f"{p.tag} 調査員", headcount=4, hours=4,
                           decision="ready", actor="user:coord", tools=f"{p.tag}さんの一輪車",
                           hazards=f"{p.tag}堂さん宅の塀", notes=f"{p.tag}堂さん宅 床下")
    add_photo(need, PNG.getvalue(), actor="user:coord", survey=survey)
    change_status(need, "on_hold", actor="user:coord", reason=f"{p.tag}堂さん不在")
    change_status(need, "ready", actor="user:coord", reason=f"{p.tag}堂さんから電話")
    change_status(other, "cancelled", actor="user:coord", reason=f"{p.tag}川さん辞退")
    team, _ = form_team(op, need, [leader.id, grouped.id], leader.id, actor="user:coord")
    dispatch_team(team, transport="walk", actor="user:coord")
    recall_all(op, actor="user:coord", reason=f"{p.tag}地区に大雨警報")
    report_team(team, outcome="continuing", actor="volunteer:1", reported_by="leader",
                remaining_work=f"{p.tag}堂さん宅 2階", people_next=4,
                requester_situation=f"{p.tag}堂さんは避難所", notes=f"{p.tag} 権兵衛1 が報告",
                incidents=[{"kind": "near_miss", "description": f"{p.tag} 権兵衛2 が転倒"}])
    return_team(team, actor="user:coord")
    shovel = add_item_type(op, "スコップ", actor="user:eq")
    receive_stock(site, shovel, 10, actor="user:eq", note=f"{p.tag}様より寄贈")
    # An event kind that copies a name into its payload: found by value, whatever its key.
    log_event("volunteer.renamed", actor="user:desk", operation_id=op.id,
              payload={"names": [leader.name, grouped.name], "phone": leader.phone})
    notes = db.metadata.tables.get("daily_note")
    if notes is not None:
        db.session.execute(notes.insert().values(operation_id=op.id, day=T0.date(),
                                                 text=f"{p.tag}堂さん宅は継続", updated_dt=T0,
                                                 actor="user:admin"))
    clock.advance(timedelta(days=1))  # the second day: one of them comes back
    check_in(op, leader, site_id=site.id, health_ok=True, insurance_enrolled_now=False,
             method="search", actor="user:desk", health={"feeling_well": True})
    db.session.commit()
    return op.id


def _close(op_id: int, clock, at) -> None:
    from dvc.operations.models import Operation
    from dvc.operations.operations import close_operation
    clock.jump(at)
    close_operation(db.session.get(Operation, op_id), actor="user:admin")
    db.session.commit()


def _found(person: Person) -> dict[str, list[str]]:
    """Scan every column of every table (and every event payload) for this person's data."""
    found = {}
    conn = db.session.connection()
    for name in db.inspect(conn).get_table_names():
        table = Table(name, MetaData(), autoload_with=conn)
        for row in conn.execute(select(table)).mappings():
            for column, value in row.items():
                if isinstance(value, (dict, list)):
                    value = json.dumps(value, ensure_ascii=False)
                hits = [n for n in person.needles() if n in str(value)]
                if hits:
                    found.setdefault(f"{name}.{column}", []).extend(hits)
    db.session.rollback()  # SQLite: let the next writer (the CLI) have the lock
    return found


def _figures(op_id: int) -> dict:
    """The anonymous counts a purge must keep: per day, per status, per district, per site."""
    from dvc.core.events import Event
    from dvc.needs.models import Need
    from dvc.operations.models import Operation
    from dvc.reports.daily import build_daily_report
    from dvc.teams.models import Incident, Team
    from dvc.volunteers.models import CheckIn, Volunteer

    def rows(query):
        return sorted(tuple(r) for r in db.session.execute(query))
    operation = db.session.get(Operation, op_id)
    reports = [build_daily_report(operation, day) for day in (T0.date(), T0.date() + timedelta(1))]
    figures = {
        "checkins": rows(select(CheckIn.day, CheckIn.site_id, func.count(), func.sum(
            CheckIn.headcount)).where(CheckIn.operation_id == op_id).group_by(
            CheckIn.day, CheckIn.site_id)),
        "needs": rows(select(Need.status, Need.district, Need.category, Need.site_id,
                             func.count()).where(Need.operation_id == op_id)
                      .group_by(Need.status, Need.district, Need.category, Need.site_id)),
        "teams": rows(select(Team.status, Team.day, func.count()).where(
            Team.operation_id == op_id).group_by(Team.status, Team.day)),
        "volunteers": rows(select(Volunteer.prefecture, Volunteer.vehicle, func.count())
                           .where(Volunteer.operation_id == op_id)
                           .group_by(Volunteer.prefecture, Volunteer.vehicle)),
        "incidents": rows(select(Incident.kind, func.count()).where(
            Incident.operation_id == op_id).group_by(Incident.kind)),
        "events": rows(select(Event.kind, func.count()).where(
            Event.operation_id == op_id, Event.kind != "operation.purged").group_by(Event.kind)),
        "reports": [(r.today, r.cumulative, r.waiting, r.waiting_by_status, r.losses)
                    for r in reports],
    }
    db.session.rollback()
    return figures


@pytest.fixture
def three(app, ctx, clock):
    """A purgeable closed operation, an open one, and one closed recently."""
    purged = _build(PURGED, clock)
    open_ = _build(OPEN, clock)
    recent = _build(RECENT, clock)
    _close(purged, clock, T0 + timedelta(days=2))
    _close(recent, clock, T0 + timedelta(days=60))
    clock.jump(T0 + timedelta(days=2 + 90, minutes=1))  # 90 days after the first one closed
    db.session.remove()
    return purged, open_, recent


def test_purge_leaves_no_personal_data_and_the_same_counts(app, three, clock, tmp_path):
    purged, open_, recent = three
    from dvc.needs.models import Need, NeedPhoto
    before = _figures(purged)
    photos = list((tmp_path / "uploads" / "needs").iterdir())
    assert len(photos) == 3
    assert _found(PURGED) and _found(OPEN) and _found(RECENT)  # the scan does find them

    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert f"purged operation {purged} " in result.output
    assert result.output.count("purged operation") == 1
    db.session.remove()

    assert _found(PURGED) == {}
    assert _figures(purged) == before
    open_traces, recent_traces = _found(OPEN), _found(RECENT)
    for traces in (open_traces, recent_traces):
        for column in ("volunteer.name", "volunteer.phone", "volunteer.emergency_phone",
                       "need.requester_name", "need.address", "need.description",
                       "activity_report.remaining_work", "event.payload"):
            assert column in traces, (column, traces)
    # Photos of the purged operation are gone, files and rows; the others' stay.
    assert len(list((tmp_path / "uploads" / "needs").iterdir())) == 2
    assert db.session.scalar(select(func.count()).select_from(NeedPhoto).join(Need).where(
        Need.operation_id == purged)) == 0
    # Points are kept to about 100 m; birth years to the decade.
    from dvc.volunteers.models import Volunteer
    for lat, lon in db.session.execute(select(Need.lat, Need.lon).where(
            Need.operation_id == purged, Need.lat.is_not(None))):
        assert (lat, lon) == (round(lat, 3), round(lon, 3))
    assert set(db.session.scalars(select(Volunteer.birth_year).where(
        Volunteer.operation_id == purged))) == {1980}
    from dvc.core.events import Event
    purge_event = db.session.scalar(select(Event).where(Event.kind == "operation.purged"))
    assert purge_event.operation_id == purged and purge_event.payload["volunteers"] == 2

    # Nothing is purged twice, and the recent one waits for its own 90 days.
    result = app.test_cli_runner().invoke(args=["purge"])
    assert "nothing to purge" in result.output
    clock.jump(T0 + timedelta(days=60 + 90, minutes=1))
    result = app.test_cli_runner().invoke(args=["purge"])
    assert f"purged operation {recent} " in result.output
    db.session.remove()
    assert _found(RECENT) == {} and _found(OPEN)


def test_dry_run_changes_nothing(app, three):
    purged, _, _ = three
    before = _found(PURGED)
    result = app.test_cli_runner().invoke(args=["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"would purge operation {purged} " in result.output
    assert "2 volunteers, 2 needs, 1 photos" in result.output
    assert "dry run: nothing was changed" in result.output
    db.session.remove()
    assert _found(PURGED) == before


def test_closing_needs_every_team_back_and_is_an_event(app, ctx, clock, operation, register):
    from dvc.core.events import Event
    from dvc.core.errors import Conflict
    from dvc.needs.operations import NeedInput, create_need, record_survey
    from dvc.operations.models import Operation
    from dvc.operations.operations import close_operation
    from dvc.teams.operations import dispatch_team, form_team, return_team
    from dvc.volunteers.models import Volunteer
    from dvc.volunteers.operations import check_in
    op_id, main, _ = operation
    register()
    op = db.session.get(Operation, op_id)
    volunteer = db.session.scalar(select(Volunteer))
    check_in(op, volunteer, site_id=main, health_ok=True, insurance_enrolled_now=False,
             method="scan", actor="test")
    need = create_need(op, NeedInput(requester_name="依頼 者", address="テスト市 1",
                                     category="tidying"), actor="test")
    record_survey(need, surveyor="s", headcount=1, hours=1, decision="ready", actor="test")
    team, _ = form_team(op, need, [volunteer.id], volunteer.id, actor="test")
    dispatch_team(team, transport="walk", actor="test")
    with pytest.raises(Conflict) as refused:
        close_operation(op, actor="test")
    assert refused.value.code == "teams_active"
    return_team(team, actor="test")
    close_operation(op, actor="user:admin")
    db.session.commit()
    assert op.status == "closed" and op.closed_dt == T0
    event = db.session.scalar(select(Event).where(Event.kind == "operation.closed"))
    assert event.operation_id == op_id and event.actor == "user:admin"
    with pytest.raises(Conflict):
        close_operation(op, actor="test")


def test_close_operation_command(app, operation):
    runner = app.test_cli_runner()
    op_id = operation[0]
    result = runner.invoke(args=["close-operation", str(op_id)])
    assert result.exit_code == 1 and "--yes" in result.output and "90 days" in result.output
    result = runner.invoke(args=["close-operation", str(op_id), "--yes"])
    assert result.exit_code == 0, result.output
    assert f"closed operation {op_id}" in result.output and "2027-02-20" in result.output
    result = runner.invoke(args=["close-operation", str(op_id), "--yes"])
    assert result.exit_code == 1 and "終了" in result.output  # "This operation is closed."
