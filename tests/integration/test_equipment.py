"""Equipment (資機材) through HTTP: item types, stock per site, the lending ledger, returns with
condition, low stock, roles, races for the last shovels, and the equipment desk page.

Runs on SQLite and, with DVC_TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import func, select

from tests.integration.test_concurrency import _race


@pytest.fixture
def equipment(token_for):
    return token_for("equipment")


@pytest.fixture
def coordinator(token_for):
    return token_for("coordinator")


@pytest.fixture
def item(client, operation, equipment):
    """item(name, low_stock=0, unit=...) -> the new item type's id."""
    def make(name: str, low_stock: int = 0, unit: str = "本") -> int:
        response = client.post(f"/api/v1/operations/{operation[0]}/equipment/items",
                               json={"name": name, "unit": unit, "low_stock": low_stock},
                               headers=equipment)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]
    return make


@pytest.fixture
def receive(client, operation, equipment):
    def do(site_id: int, item_type_id: int, quantity: int, **extra):
        return client.post(f"/api/v1/operations/{operation[0]}/sites/{site_id}/equipment/receive",
                           json={"item_type_id": item_type_id, "quantity": quantity, **extra},
                           headers=equipment)
    return do


@pytest.fixture
def make_team(app, operation, register, token_for, coordinator):
    """make_team(site_id, dispatch=True) -> the id of a new team of two checked in at that site.
    Its own client, so that a test's signed-in session does not stand in for the tokens."""
    op_id, client = operation[0], app.test_client()
    reception, intake = token_for("reception"), token_for("needs_intake")
    counter = itertools.count(1)

    def make(site_id: int, dispatch: bool = True) -> int:
        ids = []
        for _member in range(2):
            n = next(counter)
            volunteer = register(phone=f"090-7000-{n:04d}", name=f"道具 {n}",
                                 kana=f"どうぐ {n}")
            checked = client.post(f"/api/v1/operations/{op_id}/checkins", headers=reception,
                                  json={"code": volunteer["code"], "site_id": site_id,
                                        "health_ok": True})
            assert checked.status_code == 201, checked.get_json()
            ids.append(volunteer["id"])
        need = client.post(f"/api/v1/operations/{op_id}/needs", headers=intake, json={
            "requester_name": f"依頼 {n}", "phone": f"0422-00-{n:04d}",
            "address": f"架空市北町{n}", "category": "mud_removal"}).get_json()
        surveyed = client.post(f"/api/v1/needs/{need['id']}/surveys", headers=intake, json={
            "surveyor": "社協", "headcount": 4, "hours": 3, "decision": "ready"})
        assert surveyed.status_code == 201, surveyed.get_json()
        team = client.post(f"/api/v1/operations/{op_id}/teams", headers=coordinator,
                           json={"need_id": need["id"], "member_ids": ids, "leader_id": ids[0]})
        assert team.status_code == 201, team.get_json()
        team_id = team.get_json()["id"]
        if dispatch:
            assert client.post(f"/api/v1/teams/{team_id}/dispatch", headers=coordinator,
                               json={"transport": "walk"}).status_code == 200
        return team_id
    return make


def lend(client, team_id, headers, *lines):
    return client.post(f"/api/v1/teams/{team_id}/equipment/lend", headers=headers,
                       json={"items": [{"item_type_id": i, "quantity": q} for i, q in lines]})


def give_back(client, team_id, headers, *lines):
    return client.post(f"/api/v1/teams/{team_id}/equipment/return", headers=headers,
                       json={"items": [{"item_type_id": i, "quantity": q, "condition": c}
                                       for i, q, c in lines]})


def shelf(client, op_id, headers, site_id, item_type_id) -> dict:
    rows = client.get(f"/api/v1/operations/{op_id}/equipment/stock", headers=headers).get_json()
    return next(r for r in rows if r["site_id"] == site_id and r["item_type_id"] == item_type_id)


def ledger_matches_shelves(app) -> dict:
    """Assert that every shelf equals the sum of its ledger lines and is never negative."""
    from dvc.equipment.models import Movement, Stock
    from dvc.extensions import db
    with app.app_context():
        sums = dict(((s, i), n) for s, i, n in db.session.execute(
            select(Movement.site_id, Movement.item_type_id, func.sum(Movement.on_hand_change))
            .group_by(Movement.site_id, Movement.item_type_id)))
        shelves = {(s.site_id, s.item_type_id): s.on_hand
                   for s in db.session.scalars(select(Stock))}
    assert all(n >= 0 for n in shelves.values()), shelves
    assert shelves == {key: sums.get(key, 0) for key in shelves}
    return shelves


# --- item types and stock -----------------------------------------------------------------

def test_item_types_are_listed_and_unique_per_operation(client, operation, item, equipment,
                                                        token_for):
    item("スコップ", low_stock=5)
    item("一輪車", unit="台")
    url = f"/api/v1/operations/{operation[0]}/equipment/items"
    again = client.post(url, json={"name": "スコップ"}, headers=equipment)
    assert again.status_code == 422 and "name" in again.get_json()["fields"]
    listed = client.get(url, headers=token_for("viewer")).get_json()
    assert [(i["name"], i["unit"], i["low_stock"]) for i in listed] == [
        ("スコップ", "本", 5), ("一輪車", "台", 0)]


def test_receiving_stock_per_site_and_the_ledger_adds_up(app, client, operation, item,
                                                         receive, equipment):
    op_id, main, sat = operation
    shovel, bag = item("スコップ"), item("土のう袋", unit="枚")
    assert receive(main, shovel, 20, note="社協倉庫").status_code == 201
    assert receive(main, shovel, 10).status_code == 201
    moved = receive(sat, bag, 500)
    assert moved.status_code == 201
    assert moved.get_json()["kind"] == "receive" and moved.get_json()["on_hand_change"] == 500
    assert shelf(client, op_id, equipment, main, shovel)["on_hand"] == 30
    assert shelf(client, op_id, equipment, sat, bag)["on_hand"] == 500
    assert ledger_matches_shelves(app) == {(main, shovel): 30, (sat, bag): 500}
    bad = receive(main, shovel, 0)
    assert bad.status_code == 422 and "quantity" in bad.get_json()["fields"]
    assert receive(main, 99999, 1).status_code == 404


def test_an_item_or_site_of_another_operation_is_not_found(app, client, operation, item,
                                                          receive, equipment):
    from dvc.extensions import db
    from dvc.operations.operations import create_operation
    from dvc.sites.operations import create_site
    with app.app_context():
        other = create_operation("別の災害", "drill", actor="test")
        other_site = create_site(other, "別本部", "main", lat=None, lon=None, actor="test")
        db.session.commit()
        other_id, other_site_id = other.id, other_site.id
    shovel = item("スコップ")
    assert receive(other_site_id, shovel, 5).status_code == 404
    elsewhere = client.post(
        f"/api/v1/operations/{other_id}/sites/{other_site_id}/equipment/receive",
        json={"item_type_id": shovel, "quantity": 5}, headers=equipment)
    assert elsewhere.status_code == 404 and elsewhere.get_json()["error"] == "unknown_item_type"


def test_stock_count_adjusts_the_shelf_through_the_ledger(app, client, operation, item, receive,
                                                          equipment):
    op_id, main, _sat = operation
    goggles = item("ゴーグル", unit="個")
    receive(main, goggles, 30)
    url = f"/api/v1/operations/{op_id}/sites/{main}/equipment/adjust"
    counted = client.post(url, headers=equipment,
                          json={"item_type_id": goggles, "on_hand": 27, "note": "棚卸"})
    assert counted.status_code == 200
    assert [r["on_hand"] for r in counted.get_json()] == [27]
    assert ledger_matches_shelves(app) == {(main, goggles): 27}
    negative = client.post(url, headers=equipment,
                           json={"item_type_id": goggles, "on_hand": -1, "note": "x"})
    assert negative.status_code == 422


# --- lending and returns ------------------------------------------------------------------

def test_lend_and_return_with_condition(app, client, operation, item, receive, make_team,
                                        equipment):
    from dvc.core.events import Event
    from dvc.equipment.models import Movement
    from dvc.extensions import db
    op_id, main, _sat = operation
    shovel, washer = item("スコップ"), item("高圧洗浄機", unit="台")
    receive(main, shovel, 10)
    receive(main, washer, 2)
    team = make_team(main)
    lent = lend(client, team, equipment, (shovel, 5), (washer, 1))
    assert lent.status_code == 201, lent.get_json()
    body = lent.get_json()
    assert body["site_id"] == main and len(body["movements"]) == 2
    assert {i["name"]: i["outstanding"] for i in body["items"]} == {"スコップ": 5, "高圧洗浄機": 1}
    assert shelf(client, op_id, equipment, main, shovel) == {
        "site_id": main, "site_name": "本部", "item_type_id": shovel, "name": "スコップ",
        "unit": "本", "on_hand": 5, "out": 5, "low_stock": 0, "low": False}

    back = give_back(client, team, equipment, (shovel, 2, "good"), (shovel, 1, "dirty"),
                     (shovel, 1, "damaged"), (shovel, 1, "lost"), (washer, 1, "good"))
    assert back.status_code == 201, back.get_json()
    items = {i["name"]: i for i in back.get_json()["items"]}
    assert items["スコップ"] == {"item_type_id": shovel, "name": "スコップ", "unit": "本",
                                "lent": 5, "returned": 3, "lost": 1, "broken": 1,
                                "outstanding": 0}
    # damaged and lost shovels do not go back on the shelf
    assert shelf(client, op_id, equipment, main, shovel)["on_hand"] == 8
    assert shelf(client, op_id, equipment, main, washer)["on_hand"] == 2
    assert ledger_matches_shelves(app)[(main, shovel)] == 8
    with app.app_context():
        lines = db.session.execute(select(Movement.kind, Movement.condition, Movement.quantity)
                                   .where(Movement.item_type_id == shovel,
                                          Movement.team_id == team)
                                   .order_by(Movement.id)).all()
        kinds = db.session.scalars(select(Event.kind).where(Event.kind.like("equipment.%"))
                                   .order_by(Event.id)).all()
    assert sorted(lines) == sorted([("lend", None, 5), ("return", "good", 2),
                                    ("return", "dirty", 1), ("broken", "damaged", 1),
                                    ("lost", None, 1)])
    # every change is an event: 2 item types, 2 receipts, 2 loans, 5 return lines
    assert len(kinds) == 11 and kinds.count("equipment.broken") == 1
    outstanding = client.get(f"/api/v1/teams/{team}/equipment", headers=equipment).get_json()
    assert all(i["outstanding"] == 0 for i in outstanding["items"])


def test_lending_more_than_the_shelf_is_409_and_lends_nothing(app, client, operation, item,
                                                              receive, make_team, equipment):
    op_id, main, sat = operation
    shovel, mask = item("スコップ"), item("防じんマスク", unit="枚")
    receive(main, shovel, 10)
    receive(main, mask, 3)
    receive(sat, mask, 100)  # another site's shelf does not help this team
    team = make_team(main)
    refused = lend(client, team, equipment, (shovel, 4), (mask, 5))
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"] == "insufficient_stock" and body["message"]
    assert (body["available"], body["requested"], body["site_id"]) == (3, 5, main)
    assert "quantity" in body["fields"]
    # all or nothing: the shovels stayed on the shelf
    assert shelf(client, op_id, equipment, main, shovel)["on_hand"] == 10
    assert client.get(f"/api/v1/teams/{team}/equipment",
                      headers=equipment).get_json()["items"] == []
    never_stocked = item("デッキブラシ")
    empty = lend(client, team, equipment, (never_stocked, 1))
    assert empty.status_code == 409 and empty.get_json()["available"] == 0
    ledger_matches_shelves(app)


def test_returning_more_than_outstanding_is_refused(client, operation, item, receive, make_team,
                                                    equipment):
    op_id, main, _sat = operation
    shovel, brush = item("スコップ"), item("デッキブラシ")
    receive(main, shovel, 10)
    receive(main, brush, 10)
    team = make_team(main)
    lend(client, team, equipment, (shovel, 3))
    too_many = give_back(client, team, equipment, (shovel, 2, "good"), (shovel, 2, "damaged"))
    assert too_many.status_code == 409
    body = too_many.get_json()
    assert body["error"] == "return_exceeds_outstanding"
    assert (body["outstanding"], body["returning"]) == (3, 4)
    never_lent = give_back(client, team, equipment, (brush, 1, "good"))
    assert never_lent.status_code == 409 and never_lent.get_json()["outstanding"] == 0
    assert shelf(client, op_id, equipment, main, shovel)["on_hand"] == 7
    bad_condition = give_back(client, team, equipment, (shovel, 1, "shiny"))
    assert bad_condition.status_code == 422


def test_lending_needs_a_team_formed_or_in_the_field_but_returns_are_always_taken(
        client, operation, item, receive, make_team, equipment, coordinator):
    _op, main, _sat = operation
    shovel = item("スコップ")
    receive(main, shovel, 10)
    formed = make_team(main, dispatch=False)
    assert lend(client, formed, equipment, (shovel, 2)).status_code == 201
    assert client.post(f"/api/v1/teams/{formed}/dispatch", headers=coordinator,
                       json={}).status_code == 200
    assert client.post(f"/api/v1/teams/{formed}/return", headers=coordinator).status_code == 200
    late = lend(client, formed, equipment, (shovel, 1))
    assert late.status_code == 409 and late.get_json()["error"] == "invalid_team_state"
    # the team is back at the centre but still has two shovels: the desk takes them back
    assert give_back(client, formed, equipment, (shovel, 2, "dirty")).status_code == 201
    assert lend(client, 99999, equipment, (shovel, 1)).status_code == 404


def test_a_team_borrows_from_its_own_site(client, operation, item, receive, make_team,
                                          equipment):
    op_id, main, sat = operation
    wheelbarrow = item("一輪車", unit="台")
    receive(sat, wheelbarrow, 4)
    team = make_team(sat)
    assert lend(client, team, equipment, (wheelbarrow, 3)).status_code == 201
    assert shelf(client, op_id, equipment, sat, wheelbarrow)["on_hand"] == 1
    assert lend(client, make_team(main), equipment, (wheelbarrow, 1)).status_code == 409


def test_low_stock_flag_and_list(client, operation, item, receive, make_team, equipment,
                                 token_for):
    op_id, main, sat = operation
    shovel, washer = item("スコップ", low_stock=5), item("高圧洗浄機", low_stock=1, unit="台")
    receive(main, shovel, 8)
    receive(sat, shovel, 5)
    receive(main, washer, 3)
    url = f"/api/v1/operations/{op_id}/equipment/low"
    viewer = token_for("viewer")
    low = client.get(url, headers=viewer).get_json()
    assert [(r["site_id"], r["name"], r["on_hand"], r["low"]) for r in low] == [
        (sat, "スコップ", 5, True)]
    lend(client, make_team(main), equipment, (shovel, 3), (washer, 2))
    low = client.get(url, headers=viewer).get_json()
    assert [(r["site_id"], r["name"], r["on_hand"]) for r in low] == [
        (main, "スコップ", 5), (main, "高圧洗浄機", 1), (sat, "スコップ", 5)]
    assert shelf(client, op_id, viewer, main, shovel)["low"] is True
    receive(sat, shovel, 1)
    assert shelf(client, op_id, viewer, sat, shovel)["low"] is False


# --- roles --------------------------------------------------------------------------------

def test_roles_who_may_create_lend_and_read(client, operation, item, receive, make_team,
                                            token_for, equipment, coordinator):
    op_id, main, _sat = operation
    shovel = item("スコップ")
    receive(main, shovel, 10)
    team = make_team(main)
    for role in ("reception", "viewer", "needs_intake", "trainer"):
        headers = token_for(role)
        assert lend(client, team, headers, (shovel, 1)).status_code == 403, role
        assert give_back(client, team, headers, (shovel, 1, "good")).status_code == 403, role
    items_url = f"/api/v1/operations/{op_id}/equipment/items"
    receive_url = f"/api/v1/operations/{op_id}/sites/{main}/equipment/receive"
    assert client.post(items_url, json={"name": "長靴"}, headers=coordinator).status_code == 403
    assert client.post(receive_url, json={"item_type_id": shovel, "quantity": 1},
                       headers=coordinator).status_code == 403
    assert client.post(items_url, json={"name": "長靴"},
                       headers=token_for("admin")).status_code == 201
    assert lend(client, team, coordinator, (shovel, 1)).status_code == 201
    assert lend(client, team, token_for("admin"), (shovel, 1)).status_code == 201
    reception = token_for("reception")
    assert client.get(f"/api/v1/teams/{team}/equipment", headers=reception).status_code == 200
    assert client.get(f"/api/v1/operations/{op_id}/equipment/stock",
                      headers=reception).status_code == 403
    for url in (items_url, f"/api/v1/operations/{op_id}/equipment/stock",
                f"/api/v1/operations/{op_id}/equipment/low"):
        assert client.get(url, headers=token_for("viewer")).status_code == 200
        assert client.get(url).status_code == 401


# --- races --------------------------------------------------------------------------------

def test_two_desks_lending_the_last_shovels_at_once_one_wins(app, client, operation, item,
                                                             receive, make_team, equipment,
                                                             coordinator):
    op_id, main, _sat = operation
    shovel = item("スコップ")
    teams = [make_team(main) for _team in range(2)]
    for round_ in range(5):
        assert receive(main, shovel, 3).status_code == 201
        calls = [lambda c, t=t, h=h: lend(c, t, h, (shovel, 3))
                 for t, h in zip(teams, (equipment, coordinator))]
        responses = _race(app, calls)
        assert sorted(r.status_code for r in responses) == [201, 409], round_
        loser = next(r for r in responses if r.status_code == 409).get_json()
        assert loser["error"] == "insufficient_stock" and loser["available"] == 0
        assert shelf(client, op_id, equipment, main, shovel)["on_hand"] == 0
    held = [client.get(f"/api/v1/teams/{t}/equipment", headers=equipment).get_json()["items"]
            for t in teams]
    assert sum(i["outstanding"] for items in held for i in items) == 15
    ledger_matches_shelves(app)


def test_many_desks_lending_at_once_never_lend_more_than_the_shelf(app, client, operation, item,
                                                                   receive, make_team,
                                                                   equipment):
    op_id, main, _sat = operation
    bags = item("土のう袋", unit="枚")
    receive(main, bags, 5)
    teams = [make_team(main) for _team in range(4)]
    responses = _race(app, [lambda c, t=t: lend(c, t, equipment, (bags, 2)) for t in teams])
    assert sorted(r.status_code for r in responses) == [201, 201, 409, 409]
    assert {r.get_json()["available"] for r in responses if r.status_code == 409} == {1}
    assert shelf(client, op_id, equipment, main, bags)["on_hand"] == 1
    ledger_matches_shelves(app)


def test_two_desks_taking_back_the_same_shovels_at_once_accept_them_once(
        app, client, operation, item, receive, make_team, equipment, coordinator):
    op_id, main, _sat = operation
    shovel = item("スコップ")
    receive(main, shovel, 12)
    team = make_team(main)
    for round_ in range(3):
        assert lend(client, team, equipment, (shovel, 4)).status_code == 201
        responses = _race(app, [lambda c, h=h: give_back(c, team, h, (shovel, 4, "good"))
                                for h in (equipment, coordinator)])
        assert sorted(r.status_code for r in responses) == [201, 409], round_
    assert shelf(client, op_id, equipment, main, shovel)["on_hand"] == 12
    ledger_matches_shelves(app)


# --- the equipment desk page --------------------------------------------------------------

@pytest.fixture
def desk(client, login):
    login("equipment")
    return client


def test_desk_shows_stock_low_and_teams(desk, operation, item, receive, make_team, equipment):
    op_id, main, sat = operation
    shovel = item("スコップ", low_stock=5)
    receive(main, shovel, 20)
    receive(sat, shovel, 4)
    team = make_team(main)
    lend(desk, team, equipment, (shovel, 6))
    response = desk.get(f"/o/{op_id}/equipment?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="low-stock"' in html and "北サテライト · スコップ 4本" in html
    low_cell = re.search(rf'<td class="warn low" data-site="{sat}" data-item="{shovel}">', html)
    assert low_cell
    assert re.search(rf'<td class="" data-site="{main}" data-item="{shovel}">\s*'
                     r'<span class="on-hand">14</span>', html)
    assert "6 out with teams" in html
    assert f'id="team-{team}"' in html and "Receive stock" in html
    assert f'/o/{op_id}/equipment"' in desk.get(f"/o/{op_id}").get_data(as_text=True)  # nav


def test_desk_forms_add_receive_lend_and_take_back(app, desk, operation, make_team, equipment):
    op_id, main, _sat = operation
    url = f"/o/{op_id}/equipment"
    added = desk.post(f"{url}/items", data={"name": "スコップ", "unit": "本", "low_stock": "2"})
    assert added.status_code == 302 and added.location.endswith(f"{url}#stock")
    duplicate = desk.post(f"{url}/items?lang=en",
                          data={"name": "スコップ", "unit": "本", "low_stock": "0"})
    assert duplicate.status_code == 422
    assert "already on the list" in duplicate.get_data(as_text=True)
    from dvc.equipment.models import ItemType
    from dvc.extensions import db
    with app.app_context():
        shovel = db.session.scalar(select(ItemType.id).where(ItemType.name == "スコップ"))
    blank = desk.post(f"{url}/receive?lang=en",
                      data={"site_id": main, "item_type_id": shovel, "quantity": ""})
    assert blank.status_code == 422
    assert re.search(r'has-error">\s*<label for="quantity">', blank.get_data(as_text=True))
    assert desk.post(f"{url}/receive", data={"site_id": main, "item_type_id": shovel,
                                             "quantity": "5", "note": "寄付"}).status_code == 302
    team = make_team(main)
    prefix = f"lend{team}-"
    too_many = desk.post(f"{url}/teams/{team}/lend?lang=en",
                         data={prefix + "item_type_id": shovel, prefix + "quantity": "6"})
    assert too_many.status_code == 409
    html = too_many.get_data(as_text=True)
    assert "Only 5 left." in html and 'class="field-error"' in html
    assert re.search(rf'name="{prefix}quantity"[^>]* value="6"', html)  # kept for correction
    lent = desk.post(f"{url}/teams/{team}/lend",
                     data={prefix + "item_type_id": shovel, prefix + "quantity": "4"})
    assert lent.status_code == 302 and lent.location.endswith(f"#team-{team}")
    prefix = f"return{team}-"
    back = desk.post(f"{url}/teams/{team}/return", data={
        prefix + "item_type_id": shovel, prefix + "quantity": "1", prefix + "condition": "damaged"})
    assert back.status_code == 302
    over = desk.post(f"{url}/teams/{team}/return?lang=en", data={
        prefix + "item_type_id": shovel, prefix + "quantity": "9", prefix + "condition": "good"})
    assert over.status_code == 409 and "At most 3." in over.get_data(as_text=True)
    held = desk.get(f"/api/v1/teams/{team}/equipment").get_json()["items"]
    assert [(i["lent"], i["broken"], i["outstanding"]) for i in held] == [(4, 1, 3)]
    assert shelf(desk, op_id, equipment, main, shovel)["on_hand"] == 1
    ledger_matches_shelves(app)


def test_desk_is_for_equipment_and_coordinators_only(client, login, operation, create_user,
                                                     make_team):
    op_id, main, _sat = operation
    url = f"/o/{op_id}/equipment"
    login("coordinator")
    page = client.get(url).get_data(as_text=True)
    assert "Receive" not in client.get(url + "?lang=en").get_data(as_text=True)  # equipment's job
    assert page
    assert client.post(f"{url}/items", data={"name": "x", "unit": "本",
                                             "low_stock": "0"}).status_code == 403
    for role in ("viewer", "reception"):
        other = client.application.test_client()
        create_user(role)
        other.post("/login", data={"username": f"{role}-user", "password": f"password-{role}"})
        assert other.get(url).status_code == 403, role
        assert f'{url}"' not in other.get(f"/o/{op_id}").get_data(as_text=True)
    team = make_team(main)
    assert client.post(f"{url}/teams/{team}/lend", data={}).status_code == 422


def test_desk_forms_need_a_csrf_token(make_app, operation, create_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    create_user("equipment")
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    client.post("/login", data={"username": "equipment-user", "password": "password-equipment",
                                "csrf_token": token})
    url = f"/o/{operation[0]}/equipment"
    assert client.post(f"{url}/items", data={"name": "スコップ", "unit": "本",
                                             "low_stock": "0"}).status_code == 400
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(f"{url}/items", data={"name": "スコップ", "unit": "本", "low_stock": "0",
                                             "csrf_token": token}).status_code == 302


# --- demo ---------------------------------------------------------------------------------

def test_demo_data_stocks_both_sites(app):
    from dvc.demo import DEMO_NAME
    from dvc.equipment.operations import stock_levels
    from dvc.extensions import db
    from dvc.operations.models import Operation
    assert "demo data loaded" in app.test_cli_runner().invoke(args=["demo-data"]).output
    with app.app_context():
        demo = db.session.scalar(select(Operation).where(Operation.name == DEMO_NAME))
        levels, sites = stock_levels(demo), {s.id for s in demo.sites}
    assert {lv.site_id for lv in levels} == sites and len(sites) == 2
    assert {"スコップ", "一輪車", "土のう袋", "高圧洗浄機"} <= {lv.name for lv in levels}
    assert any(lv.low for lv in levels)  # the satellite is short of something
