"""Demo data: a fictional city's flood response, with accounts for every role.

Everything here is invented (架空市 is not a real place). It goes through the same operations
as real use, with yesterday's arrivals played on a virtual clock so that the roster has repeat
volunteers as well as new ones.
"""
from __future__ import annotations

import random
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from dvc.auth.models import ROLES, User
from dvc.auth.operations import create_user
from dvc.core.clock import VirtualClock
from dvc.core.context import clock, now
from dvc.extensions import db
from dvc.operations.operations import create_operation, set_notice
from dvc.sites.operations import create_site
from dvc.volunteers import operations as ops

DEMO_NAME = "架空市 令和8年豪雨災害ボランティアセンター（デモ・架空）"
ACTOR = "demo"
FAMILY = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
          ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
          ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ")]
GIVEN = [("太郎", "タロウ"), ("花子", "ハナコ"), ("健", "ケン"), ("陽菜", "ヒナ"), ("翔", "ショウ"),
         ("結衣", "ユイ"), ("大輔", "ダイスケ"), ("美咲", "ミサキ"), ("誠", "マコト"), ("葵", "アオイ")]
PLACES = [("東京都", "架空市"), ("東京都", "三鷹市"), ("東京都", "武蔵野市"), ("神奈川県", "川崎市"),
          ("埼玉県", "所沢市"), ("千葉県", "船橋市"), ("静岡県", "静岡市")]


def demo_password(role: str) -> str:
    """Demo accounts' passwords, published (README, `serve`, the sign-in page says so); they
    exist only where `flask demo-data` put them, into a database that held nothing else."""
    return f"{role}-demo"


def demo_accounts() -> list[tuple[str, str]]:
    """Return the demo logins that exist in this database (none outside demo data)."""
    names = set(db.session.scalars(select(User.username).where(User.username.in_(ROLES))))
    if "admin" not in names or not db.session.scalar(
            select(User.id).where(User.display_name == "デモ admin")):
        return []
    return [(role, demo_password(role)) for role in ROLES if role in names]


def _registration(rng: random.Random, i: int) -> ops.Registration:
    family, given = rng.choice(FAMILY), rng.choice(GIVEN)
    prefecture, municipality = rng.choice(PLACES)
    reg = ops.Registration(
        name=f"{family[0]} {given[0]}", kana=f"{family[1]} {given[1]}",
        phone=f"090{i:08d}", prefecture=prefecture, municipality=municipality,
        birth_year=rng.randint(1950, 2006), emergency_name=f"{family[0]} 家族",
        emergency_phone=f"080{i:08d}", consent=True,
        skills=rng.sample(current_app.config["SKILLS"], k=rng.choice([0, 0, 1, 2])),
        vehicle=rng.choice(["none", "none", "none", "car", "light_truck"]),
        insurance=rng.choice(["home", "home", "none"]))
    if reg.insurance == "home":
        reg.insurance_council = f"{municipality}社会福祉協議会"
    if i % 15 == 0:
        reg.group_name, reg.group_size = f"{municipality}ボランティア会", rng.randint(3, 8)
    return reg


def _arrivals(operation, volunteers, site_ids, rng):
    for volunteer in volunteers:
        ops.check_in(operation, volunteer, site_id=rng.choice(site_ids), health_ok=True,
                     insurance_enrolled_now=True, method="scan", actor=ACTOR)


# (name, unit, low at or below, on hand at the main centre, at the satellite): the satellite is
# short of masks and washers, so the desk and the map have low stock to show.
EQUIPMENT = [("スコップ", "本", 10, 60, 15), ("一輪車", "台", 3, 12, 4),
             ("土のう袋", "枚", 100, 1000, 200), ("デッキブラシ", "本", 5, 30, 8),
             ("バケツ", "個", 5, 30, 10), ("ゴーグル", "個", 10, 80, 20),
             ("防じんマスク", "枚", 50, 500, 40), ("高圧洗浄機", "台", 1, 4, 1),
             ("ブルーシート", "枚", 10, 50, 12)]


def _equipment(operation, sites) -> None:
    from dvc.equipment import operations as equipment
    for name, unit, low, *stock in EQUIPMENT:
        item = equipment.add_item_type(operation, name, unit=unit, low_stock=low,
                                       per_person=name == "スコップ", actor=ACTOR)
        for site, quantity in zip(sites, stock):
            equipment.receive_stock(site, item, quantity, actor=ACTOR, note="デモ")


STREETS = ["本町", "栄町", "緑町", "桜台", "川端", "新田", "旭町", "若葉"]
CATEGORY_MIX = ["mud_removal"] * 5 + ["furniture_removal"] * 3 + ["tidying", "cleaning", "debris",
                                                                   "transport", "companionship"]
# (name, kind, capacity, care types, staying now by care type): fictional shelters.
SHELTERS = [
    ("架空市特別養護老人ホーム さくら苑", "welfare", 20, ["frail_elderly", "dementia", "wheelchair"],
     {"frail_elderly": 12, "dementia": 4}),
    ("北町障害者福祉センター", "welfare", 15, ["wheelchair", "medical_care"], {"wheelchair": 15}),
    ("川辺保健センター", "welfare", 12, ["medical_care", "pregnant", "infants"], {"infants": 3}),
    ("山手デイサービスセンター", "welfare", 10, ["frail_elderly", "wheelchair"], {}),
    ("架空市立中央小学校 体育館", "general", 300, [], {"other": 142}),
    ("南町公民館", "general", 80, [], {"other": 35}),
]


def _districts(operation) -> None:
    from dvc.districts.fictional import FICTIONAL_LABEL, fictional_city
    from dvc.districts.operations import store_districts
    store_districts(operation, fictional_city(35.6836, 139.5595), source=FICTIONAL_LABEL,
                    actor=ACTOR)


def _needs(operation, rng: random.Random) -> None:
    """Forty households' requests over the city: some surveyed and ready, some continuing."""
    from dvc.needs.operations import NeedInput, change_status, create_need
    for i in range(40):
        family = rng.choice(FAMILY)
        low = rng.choice([2, 2, 3, 4, 5])
        need = create_need(operation, NeedInput(
            requester_name=f"{family[0]} {rng.choice(GIVEN)[0]}", requester_kana=family[1],
            phone=f"0422{i:06d}", address=f"架空市{rng.choice(STREETS)}{i % 9 + 1}-{i % 7 + 1}",
            lat=35.6836 + rng.uniform(-0.035, 0.035), lon=139.5595 + rng.uniform(-0.045, 0.045),
            category=rng.choice(CATEGORY_MIX), damage=rng.choice(["above_floor", "below_floor"]),
            people_min=low, people_max=low + rng.choice([0, 2, 3, 5]),
            skills=["chainsaw"] if i % 13 == 0 else [], vehicle_needed=i % 4 == 0,
            priority=rng.choice(["urgent", "high", "normal", "normal", "normal", "low"]),
            elderly=i % 3 == 0, living_alone=i % 5 == 0, description="浸水した家財の片付け"),
            actor=ACTOR)
        if i % 10 < 6:
            change_status(need, "ready", actor=ACTOR)
        elif i % 10 < 8:
            change_status(need, "survey", actor=ACTOR)


def _shelters(operation) -> None:
    from dvc.shelters.operations import create_shelter, set_occupancy
    for i, (name, kind, capacity, care, staying) in enumerate(SHELTERS):
        shelter = create_shelter(operation, {
            "name": name, "kind": kind, "capacity": capacity, "care_types": care,
            "status": "open", "lat": 35.6836 + 0.012 * ((i % 3) - 1),
            "lon": 139.5595 + 0.018 * ((i // 3) * 2 - 1) + 0.004 * i,
            "address": f"架空市{STREETS[i]}1-1", "contact": f"0422-00-{i:04d}（代表）"},
            actor=ACTOR)
        if staying:
            set_occupancy(shelter, staying, actor=ACTOR)


def holds_other_data() -> bool:
    """Tell whether the database has accounts or operations that are not the demo's: then
    `flask demo-data` refuses, as the demo's accounts have published passwords."""
    from dvc.operations.models import Operation
    if demo_accounts():
        return False
    return bool(db.session.scalar(select(User.id).limit(1))
                or db.session.scalar(select(Operation.id).limit(1)))


def load_demo() -> bool:
    """Load the demo once; return False when it is already there."""
    if demo_accounts():
        return False
    for role in ROLES:
        create_user(role, role, demo_password(role), display_name=f"デモ {role}", actor=ACTOR)
    operation = create_operation(DEMO_NAME, "real", prefecture="東京都", municipality="架空市",
                                 actor=ACTOR)
    main = create_site(operation, "架空市総合福祉センター（本部）", "main", lat=35.6836,
                       lon=139.5595, actor=ACTOR)
    satellite = create_site(operation, "北町サテライト（架空）", "satellite", lat=35.6990,
                            lon=139.5480, actor=ACTOR)
    _districts(operation)
    from dvc.sites.operations import update_site
    update_site(main, {"service_districts": ["中央", "南町", "東町", "西町", "川辺"]}, actor=ACTOR)
    update_site(satellite, {"service_districts": ["北町", "山手"], "daily_quota": 40,
                            "staff": "北町社協 2名、応援職員 1名（架空）"}, actor=ACTOR)
    set_notice(operation, "本日は気温が高くなります。30分ごとに休憩と水分補給をしてください。"
               "活動は15時までです。", actor=ACTOR)
    rng = random.Random(2026)
    volunteers = [ops.register_volunteer(operation, _registration(rng, i), via="pre",
                                         actor=ACTOR)[0] for i in range(1, 61)]
    real = clock()
    yesterday = VirtualClock(now() - timedelta(days=1))
    current_app.extensions["dvc.clock"] = yesterday
    try:
        _arrivals(operation, volunteers[:25], [main.id, satellite.id], rng)
    finally:
        current_app.extensions["dvc.clock"] = real
    _arrivals(operation, volunteers[10:40], [main.id, satellite.id], rng)
    _equipment(operation, [main, satellite])
    _needs(operation, rng)
    _shelters(operation)
    return True
