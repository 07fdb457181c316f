"""Fictional people and households for drills: plainly invented, never real.

Phones are in ranges no subscriber has: the block after the mobile prefix starts with 0
(090-0xxx-xxxx for volunteers, 070-0xxx-xxxx for their emergency contacts, 080-0xxx-xxxx for
requesters), as the demo data does. Home towns are invented (見本市, 仮名町); only the
prefecture is real, so that in/out-of-prefecture counts work. Addresses are in the scenario's
municipality, which a shipped scenario names as fictional (架空市).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace

FAMILY = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
          ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
          ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
          ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"),
          ("木村", "キムラ"), ("林", "ハヤシ"), ("斎藤", "サイトウ"), ("清水", "シミズ"),
          ("山崎", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"),
          ("阿部", "アベ"), ("石川", "イシカワ"), ("前田", "マエダ"), ("藤田", "フジタ"),
          ("小川", "オガワ"), ("岡田", "オカダ")]
GIVEN = [("太郎", "タロウ"), ("花子", "ハナコ"), ("健", "ケン"), ("陽菜", "ヒナ"), ("翔", "ショウ"),
         ("結衣", "ユイ"), ("大輔", "ダイスケ"), ("美咲", "ミサキ"), ("誠", "マコト"), ("葵", "アオイ"),
         ("蓮", "レン"), ("さくら", "サクラ"), ("拓也", "タクヤ"), ("由美", "ユミ"), ("悠斗", "ユウト"),
         ("恵", "メグミ"), ("直樹", "ナオキ"), ("彩", "アヤ"), ("隆", "タカシ"), ("千尋", "チヒロ"),
         ("浩二", "コウジ"), ("舞", "マイ"), ("修", "オサム"), ("真由", "マユ"), ("亮", "リョウ"),
         ("智子", "トモコ"), ("学", "マナブ"), ("奈々", "ナナ"), ("豊", "ユタカ"), ("香織", "カオリ")]
# Invented municipalities: the prefecture is real, the town is not.
TOWNS = ["見本市", "仮名町", "例示市", "試験町", "架空台市", "模擬村"]
OTHER_PREFECTURES = ["埼玉県", "千葉県", "神奈川県", "東京都", "静岡県", "茨城県", "栃木県",
                     "群馬県", "山梨県", "長野県", "愛知県", "大阪府"]
HOME_SHARE = 0.6  # volunteers from the operation's own prefecture
GROUP_KINDS = ["ボランティア会", "大学ボランティアサークル", "社会人有志", "青年会議所有志",
               "高校ボランティア部", "企業ボランティアチーム"]
GROUP_SIZES = {2: 6, 3: 5, 4: 4, 5: 3, 6: 2, 7: 1.5, 8: 1, 9: 0.7, 10: 0.5}
LIGHT_TRUCK_SHARE = 0.4  # of volunteers who come with a vehicle, those with a light truck (軽トラ)
INSURANCE_HOME_SHARE = 0.6  # enrolled at home before coming; the rest enrol at the centre
STREETS = ["本町", "栄町", "緑町", "桜台", "川端", "新田", "旭町", "若葉"]
DESCRIPTIONS = {
    "mud_removal": ["床下に泥が入り込んでいる。泥のかき出しをお願いしたい。",
                    "床上まで浸水し、室内に泥が残っている。かき出しを手伝ってほしい。",
                    "庭と車庫に泥が堆積している。土のう袋に詰めて出したい。"],
    "furniture_removal": ["浸水した畳と家具を運び出してほしい。",
                          "水に浸かった冷蔵庫やタンスを外に出したい。",
                          "2階へ家財を上げる手伝いをお願いしたい。"],
    "tidying": ["家の中が散乱していて片付けが進まない。手伝ってほしい。",
                "割れた食器や倒れた棚の片付けをお願いしたい。"],
    "cleaning": ["泥を出した後の床と壁の拭き掃除をお願いしたい。",
                 "床下の乾燥前に洗浄を手伝ってほしい。"],
    "debris": ["倒れたブロック塀と瓦の撤去を手伝ってほしい。",
               "流れ着いた木材やがれきを片付けたい。"],
    "transport": ["災害ごみを仮置き場まで運んでほしい。",
                  "片付けたごみを軽トラックで運び出してほしい。"],
    "companionship": ["一人暮らしで不安。話し相手と見守りをお願いしたい。",
                      "避難所から戻ったが片付けの段取りを一緒に考えてほしい。"],
    "other": ["困りごとの相談をしたい（内容は訪問時に確認）。"],
}
DAMAGE = {"mud_removal": ("above_floor", "below_floor"), "furniture_removal": ("above_floor",),
          "cleaning": ("above_floor", "below_floor"), "debris": ("partial",),
          "tidying": ("partial", "unknown")}


def phone(prefix: str, n: int) -> str:
    """Return the n-th fictional number of a prefix: 090-0xxx-xxxx (n < 10,000,000)."""
    if not 0 <= n < 10_000_000:
        raise ValueError("fictional phone index out of range")
    return f"{prefix}-0{n // 10000:03d}-{n % 10000:04d}"


def pick(rng: random.Random, weights) -> str:
    """Draw a key from (key, weight) pairs or a dict, in the order given."""
    pairs = list(weights.items()) if isinstance(weights, dict) else list(weights)
    return rng.choices([k for k, _ in pairs], weights=[w for _, w in pairs])[0]


@dataclass(frozen=True)
class Person:
    """A fictional volunteer (or a group's representative) as they would register."""

    ref: str                 # stable within a schedule: "v1", "v2", ...
    name: str
    kana: str
    phone: str
    prefecture: str
    municipality: str
    birth_year: int
    emergency_name: str
    emergency_phone: str
    skills: tuple[str, ...] = ()
    vehicle: str = "none"    # none | car | light_truck
    insurance: str = "none"  # home (enrolled before coming) | none (enrols at the centre)
    insurance_council: str | None = None
    group_name: str | None = None
    group_size: int | None = None

    @property
    def headcount(self) -> int:
        return self.group_size or 1

    def registration(self) -> dict:
        """Return the fields of dvc.volunteers.operations.Registration."""
        return {"name": self.name, "kana": self.kana, "phone": self.phone,
                "prefecture": self.prefecture, "municipality": self.municipality,
                "birth_year": self.birth_year, "emergency_name": self.emergency_name,
                "emergency_phone": self.emergency_phone, "consent": True,
                "skills": list(self.skills), "vehicle": self.vehicle,
                "insurance": self.insurance, "insurance_council": self.insurance_council,
                "group_name": self.group_name, "group_size": self.group_size}


def draw_person(rng: random.Random, *, prefecture: str, skills, vehicle_share: float,
                group_share: float, youngest: int) -> Person:
    """Draw a person's attributes; `identify` gives the name and phone their final form."""
    family, given = rng.randrange(len(FAMILY)), rng.randrange(len(GIVEN))
    birth_year = rng.randint(1950, youngest)
    home = prefecture if rng.random() < HOME_SHARE else rng.choice(OTHER_PREFECTURES)
    town = rng.choice(TOWNS)
    have = tuple(sorted(skill for skill, share in skills if rng.random() < share))
    vehicle = "none"
    if rng.random() < vehicle_share:
        vehicle = "light_truck" if rng.random() < LIGHT_TRUCK_SHARE else "car"
    insured = rng.random() < INSURANCE_HOME_SHARE
    group_name = group_size = None
    if rng.random() < group_share:
        group_size = int(pick(rng, GROUP_SIZES))
        group_name = f"{town}{rng.choice(GROUP_KINDS)}"
    return Person(ref="", name=f"{family}|{given}", kana="", phone="", prefecture=home,
                  municipality=town, birth_year=birth_year, emergency_name="",
                  emergency_phone="", skills=have, vehicle=vehicle,
                  insurance="home" if insured else "none",
                  insurance_council=f"{town}社会福祉協議会" if insured else None,
                  group_name=group_name, group_size=group_size)


class Identities:
    """Give drawn people unique names (name + birth year) and phones, in the order asked.

    The app treats the same phone, or the same name and birth year, as the same person; so a
    clash moves the birth year (then the given name) deterministically, with no random draw.
    """

    def __init__(self, youngest: int):
        self.youngest = youngest
        self.used: set[tuple[int, int, int]] = set()
        self.count = 0

    def identify(self, raw: Person) -> Person:
        family, given = (int(x) for x in raw.name.split("|"))
        year = raw.birth_year
        span = self.youngest - 1950 + 1
        for step in range(span * len(GIVEN)):
            g = (given + step // span) % len(GIVEN)
            y = 1950 + (year - 1950 + step) % span
            if (family, g, y) not in self.used:
                break
        else:  # pragma: no cover - more people than names: reuse, phones still differ
            g, y = given, year
        self.used.add((family, g, y))
        self.count += 1
        (fam, fam_kana), (giv, giv_kana) = FAMILY[family], GIVEN[g]
        return replace(raw, ref=f"v{self.count}", name=f"{fam} {giv}",
                       kana=f"{fam_kana} {giv_kana}", phone=phone("090", self.count), birth_year=y,
                       emergency_name=f"{fam} 家族", emergency_phone=phone("070", self.count))


@dataclass(frozen=True)
class NeedRequest:
    """A fictional household's request for help (the fields of NeedInput, and where)."""

    ref: str                # "n1", "n2", ... within a schedule
    requester_name: str
    requester_kana: str
    phone: str
    address: str
    lat: float
    lon: float
    district: str | None
    category: str
    priority: str
    people_min: int
    people_max: int
    est_hours: float
    description: str
    damage: str = "unknown"
    skills: tuple[str, ...] = ()
    vehicle_needed: bool = False
    elderly: bool = False
    living_alone: bool = False
    source: str = "phone"
    site: str | None = None  # the site whose surroundings the point was drawn in, if any

    def need_input(self) -> dict:
        """Return the fields of dvc.needs.operations.NeedInput."""
        return {"requester_name": self.requester_name, "requester_kana": self.requester_kana,
                "phone": self.phone, "address": self.address, "lat": self.lat, "lon": self.lon,
                "district": self.district, "category": self.category,
                "description": self.description, "damage": self.damage,
                "people_min": self.people_min, "people_max": self.people_max,
                "est_hours": self.est_hours, "skills": list(self.skills),
                "vehicle_needed": self.vehicle_needed, "priority": self.priority,
                "elderly": self.elderly, "living_alone": self.living_alone,
                "source": self.source}


def household(rng: random.Random, n: int, *, municipality: str, district: str | None) -> dict:
    """Draw a requester's name, fictional phone and address (n numbers the requester)."""
    family, given = rng.choice(FAMILY), rng.choice(GIVEN)
    area = district or rng.choice(STREETS)
    address = f"{municipality}{area}{rng.randint(1, 5)}丁目{rng.randint(1, 30)}-{rng.randint(1, 20)}"
    return {"requester_name": f"{family[0]} {given[0]}",
            "requester_kana": f"{family[1]} {given[1]}",
            "phone": phone("080", n), "address": address}
