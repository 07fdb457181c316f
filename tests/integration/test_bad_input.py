"""Bad input, table by table (issue 9): codes that are not codes, images that are not QR codes
or not images, uploads of the wrong type or size, and forms and JSON with missing or absurd
values. Each is refused cleanly: a 4xx, JSON {error, message, fields} from the API or a page that
shows the message (beside the field at fault, for forms), never a 500 or a stack trace.

Each table is one test that tries every row and reports every row that failed. Runs on SQLite
and, with DVC_TEST_DATABASE_URL, on PostgreSQL."""
from __future__ import annotations

import io
import json
import random
import re
import struct
import zipfile
import zlib
from urllib.parse import quote

import pytest
from PIL import Image

from dvc.core import codes
from dvc.volunteers import qr
from tests.conftest import registration
from tests.integration.test_needs_api import need_body

RNG = random.Random(20261122)  # fixed: the same bytes on every run
CLEAN = (400, 404, 409, 410, 413, 415, 422)
FIELD_ERROR = re.compile(r'<div class="field has-error">.*?name="([\w-]+)".*?'
                         r'<p class="field-error" role="alert">(.*?)</p>', re.S)
TOTALS: dict[str, int] = {}  # rows tried per table (the README's figure)


def _count(table: str, rows) -> list:
    TOTALS[table] = len(rows)
    return rows


def refused_json(response, statuses=CLEAN) -> dict:
    """Assert a clean API refusal and return its body."""
    assert response.status_code in statuses, (response.status_code, response.data[:300])
    assert response.mimetype == "application/json", response.mimetype
    body = response.get_json()
    assert {"error", "message", "fields"} <= set(body), body
    assert body["message"] and isinstance(body["fields"], dict), body
    return body


def refused_page(response, statuses=CLEAN) -> str:
    """Assert a clean page refusal (4xx, HTML, no stack trace) and return the page."""
    assert response.status_code in statuses, (response.status_code, response.data[:300])
    assert response.mimetype == "text/html", response.mimetype
    page = response.get_data(as_text=True)
    assert "Traceback" not in page and "Internal Server Error" not in page
    return page


def names(fields, field: str) -> bool:
    """Tell whether an error's fields name `field` (itself, or a part of it: counts.wheelchair)."""
    return any(key == field or key.startswith(f"{field}.") for key in fields)


def multipart(**files) -> dict:
    """A multipart body built here: the test client would spool a large one to a temporary
    file that it never closes."""
    boundary, parts = "dvc-bad-input", []
    for name, value in files.items():
        if isinstance(value, tuple):
            data, filename = value
            head = (f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                    "Content-Type: application/octet-stream")
        else:
            data, head = value.encode(), f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{head}\r\n\r\n".encode() + data + b"\r\n")
    return {"data": b"".join(parts) + f"--{boundary}--\r\n".encode(),
            "content_type": f"multipart/form-data; boundary={boundary}"}


def field_errors(page: str) -> dict[str, str]:
    """The messages a form page shows beside its fields: {field name: message}."""
    return {name: message for name, message in FIELD_ERROR.findall(page)}


def run_table(rows, check) -> None:
    """Try every row; fail once, naming every row that failed and why."""
    failed = []
    for row in rows:
        try:
            check(*row)
        except AssertionError as err:
            failed.append(f"{row[0]}: {err}")
    assert not failed, "\n".join(failed)


# --- codes ---------------------------------------------------------------------------------

TOKEN = codes.new_token()
WRONG_CHECK = TOKEN[:codes.BODY_LEN] + next(
    a + b for a in codes.ALPHABET for b in codes.ALPHABET if a + b != TOKEN[codes.BODY_LEN:])
BAD_CODES = _count("codes", [
    ("empty", ""),
    ("blanks", " \t\u3000 "),
    ("random bytes", RNG.randbytes(64).decode("latin-1")),
    ("1 MB", "A" * 1_000_000),
    ("Shift_JIS bytes", "山田太郎のコード".encode("shift_jis").decode("latin-1")),
    ("UTF-16 of a real code", TOKEN.encode("utf-16").decode("latin-1")),
    ("UTF-32 of a real code", TOKEN.encode("utf-32").decode("latin-1")),
    ("emoji", "🙂" * 28),
    ("control characters", "\x1b[2J\x07\x08" + TOKEN[:20]),
    ("NUL", "\x00" * 28),
    ("NUL inside a real code", TOKEN[:10] + "\x00" + TOKEN[10:]),
    ("right-to-left override", "\u202e" + TOKEN),
    ("wrong checksum", WRONG_CHECK),
    ("one character short", TOKEN[:-1]),
    ("SQL", "' OR 1=1 --"),
    ("a URL elsewhere", "https://evil.example/v/../../etc/passwd"),
    ("well formed, nobody's", codes.new_token()),
])
WRONG_TYPES = [None, 12345, 1.5, True, [TOKEN], {"code": TOKEN}]


@pytest.fixture
def admin(token_for):
    return token_for("admin")


@pytest.fixture
def volunteer(register):
    return register()


def test_lookup_and_checkin_refuse_codes_that_are_not_codes(client, operation, volunteer,
                                                            token_for):
    op_id, main, _sat = operation
    desk = token_for("reception")

    def check(label, text):
        for url, body in ((f"/api/v1/operations/{op_id}/lookup", {"code": text}),
                          (f"/api/v1/operations/{op_id}/checkins",
                           {"code": text, "site_id": main, "health_ok": True})):
            answer = refused_json(client.post(url, json=body, headers=desk))
            if label != "empty":
                assert answer["error"] in ("code_malformed", "code_damaged", "unknown_code",
                                           "validation_error"), answer
                assert "code" in answer["fields"] or answer["error"] == "unknown_code", answer

    run_table(BAD_CODES, check)
    run_table([(repr(value), value) for value in WRONG_TYPES], lambda _label, value: (
        refused_json(client.post(f"/api/v1/operations/{op_id}/lookup", json={"code": value},
                                 headers=desk), (422,))))
    # The real code still works, however a scanner typed it (full-width through an IME).
    full_width = volunteer["code"].translate(str.maketrans(
        codes.ALPHABET, "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＭＮＰＱＲＳＴＶＷＸＹＺ"))
    found = client.post(f"/api/v1/operations/{op_id}/lookup", json={"code": full_width},
                        headers=desk)
    assert found.status_code == 200 and found.get_json()["volunteer"]["id"] == volunteer["id"]


def test_bodies_that_are_not_json_are_refused(client, operation, token_for):
    url = f"/api/v1/operations/{operation[0]}/lookup"
    desk = token_for("reception")
    rows = _count("raw bodies", [
        ("Shift_JIS body", "{\"code\": \"山田\"}".encode("shift_jis")),
        ("random bytes", RNG.randbytes(256)),
        ("NUL bytes", b"\x00" * 64),
        ("truncated JSON", b"{\"code\": \"AB"),
        ("a JSON list", b"[1, 2, 3]"),
        ("a JSON string", b"\"code\""),
        ("NaN", b"{\"code\": NaN}"),
        ("deep nesting", b"[" * 5000 + b"]" * 5000),
    ])

    def check(_label, data):
        refused_json(client.post(url, data=data, headers=desk, content_type="application/json"))

    run_table(rows, check)


def test_pages_refuse_codes_that_are_not_codes(app, client, operation, volunteer, login):
    op_id, main, _sat = operation
    login("admin")
    day_code = codes.daily_poster_code("test-secret", op_id, main, app.extensions[
        "dvc.clock"].now().astimezone().date())

    def check(label, text):
        if text.strip() and "\x00" not in text and len(text) < 4000:
            # The volunteer's own page and QR: a code in the URL that is not theirs is a 404.
            for url in (f"/v/{quote(text, safe='')}", f"/v/{quote(text, safe='')}/qr.png"):
                refused_page(client.get(url), (404,))
            # Today's entrance poster with a wrong day code: a page that says it is stale.
            refused_page(client.get(f"/o/{op_id}/s/{main}/{quote(text, safe='')}"), (404, 410))
        # Self check-in with a typed code, and the paper pack's scanner.
        page = refused_page(client.post(f"/o/{op_id}/s/{main}/{day_code}", data={
            "code": text, **{f"health_{q}": "yes" for q in app.config["HEALTH_QUESTIONS"]}}))
        assert any(mark in page for mark in ("flash-error", "field-error", "error-page"))
        refused_page(client.get(f"/o/{op_id}/fallback/scan", query_string={"code": text[:4000]}))

    run_table(BAD_CODES, check)


# --- QR images -----------------------------------------------------------------------------

def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def huge_png(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` (a decompression bomb's few bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b""))


def noise_png(size: int = 64) -> bytes:
    return png(Image.frombytes("L", (size, size), RNG.randbytes(size * size)))


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BAD_IMAGES = _count("images", [
    ("random noise PNG", noise_png(), "noise.png"),
    ("random noise PNG, large", noise_png(1200), "noise.png"),
    ("random bytes named .png", RNG.randbytes(4096), "frame.png"),
    ("a text file named .jpg", "受付のメモ\n".encode() * 50, "frame.jpg"),
    ("a PDF", PDF, "frame.pdf"),
    ("empty", b"", "frame.png"),
    ("huge dimensions (decompression bomb)", huge_png(100_000, 100_000), "bomb.png"),
    ("truncated QR", qr.png(TOKEN)[:200], "cut.png"),
    ("a zip", zipfile.ZipFile.__name__.encode() * 10, "frame.zip"),
])


def test_decode_refuses_images_without_a_code(client, token_for):
    desk = token_for("reception")

    def check(_label, data, name):
        refused_json(client.post("/api/v1/decode", headers=desk,
                                 **multipart(image=(data, name))))

    run_table(BAD_IMAGES, check)
    refused_json(client.post("/api/v1/decode", headers=desk, data={}), (422,))
    # A QR of Shift_JIS text decodes, and the code check then refuses what it says.
    text = client.post("/api/v1/decode", headers=desk, data={
        "image": (io.BytesIO(qr.png("ボランティア受付")), "sjis.png")})
    assert text.status_code == 200
    real = client.post("/api/v1/decode", headers=desk,
                       data={"image": (io.BytesIO(qr.png(TOKEN)), "qr.png")})
    assert real.status_code == 200 and real.get_json()["text"] == TOKEN


# --- uploads -------------------------------------------------------------------------------

BAD_PHOTOS = _count("photos", [
    ("a text file named .jpg", b"not a photo\n" * 100, "photo.jpg"),
    ("a PDF", PDF, "photo.pdf"),
    ("an SVG (script inside)", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)"
                               b"</script></svg>", "photo.svg"),
    ("a GIF", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "photo.gif"),
    ("a zip", b"PK\x05\x06" + b"\x00" * 18, "photos.zip"),
    ("huge dimensions (decompression bomb)", huge_png(30_000, 30_000), "bomb.png"),
    ("truncated PNG", png(Image.new("RGB", (64, 64), "red"))[:60], "cut.png"),
    ("empty", b"", "empty.jpg"),
    ("random bytes", RNG.randbytes(2048), "photo.jpg"),
])


@pytest.fixture
def need_id(client, operation, admin):
    response = client.post(f"/api/v1/operations/{operation[0]}/needs", headers=admin,
                           json=need_body())
    assert response.status_code == 201
    return response.get_json()["id"]


def test_photo_uploads_refuse_the_wrong_type(client, operation, need_id, admin, login):
    url = f"/api/v1/needs/{need_id}/photos"

    def api(_label, data, name):
        answer = refused_json(client.post(url, headers=admin,
                                          data={"photo": (io.BytesIO(data), name)}), (422,))
        assert "photo" in answer["fields"]

    run_table(BAD_PHOTOS, api)
    login("admin")
    page_url = f"/o/{operation[0]}/needs/{need_id}/photos"

    def page(_label, data, name):
        response = client.post(page_url, data={"photos": (io.BytesIO(data), name)},
                               follow_redirects=True)
        text = response.get_data(as_text=True)
        assert response.status_code in (200, 422) and "Traceback" not in text
        assert name in text and "flash-error" in text, text[:500]  # "Not saved: <name>: why"

    run_table([row for row in BAD_PHOTOS if row[1]], page)
    good = png(Image.new("RGB", (32, 32), "blue"))
    assert client.post(url, headers=admin,
                       data={"photo": (io.BytesIO(good), "ok.png")}).status_code == 201


def in_japanese(app, msgid: str, **values) -> str:
    from flask_babel import force_locale, gettext
    with app.test_request_context(), force_locale("ja"):
        return gettext(msgid, **values)


def test_too_large_uploads_get_a_clear_413(app, client, operation, need_id, admin, login):
    assert app.config["MAX_CONTENT_LENGTH"] == 8 * 1024 * 1024
    big = b"\xff\xd8" + b"\x00" * (8 * 1024 * 1024 + 10)
    photo = multipart(photo=(big, "big.jpg"))
    answer = refused_json(client.post(f"/api/v1/needs/{need_id}/photos", headers=admin,
                                      **photo), (413,))
    assert answer["message"] == in_japanese(
        app, "The file is too large: send at most %(mb)s MB at once.", mb="8")
    english = client.post(f"/api/v1/needs/{need_id}/photos",
                          headers={**admin, "Accept-Language": "en"}, **photo)
    assert english.status_code == 413 and "at most 8 MB" in english.get_json()["message"]
    login("admin")
    page = refused_page(client.post(f"/o/{operation[0]}/needs/{need_id}/photos",
                                    **multipart(photos=(big, "big.jpg"))), (413,))
    assert "8 MB" in page
    districts = refused_json(client.post(
        f"/api/v1/operations/{operation[0]}/districts/import", headers=admin,
        **multipart(file=(big, "big.geojson"), name_field="name")), (413,))
    assert "8 MB" in districts["message"]


def zip_bomb() -> bytes:
    """A small zip that unpacks to more than the district importer's 200 MB limit."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("districts.geojson", "w", force_zip64=True) as member:
            block = b" " * 2**20
            for _mb in range(201):
                member.write(block)
    return buf.getvalue()


def test_district_imports_refuse_the_wrong_file(client, operation, admin, login):
    sea = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": "海"}, "geometry": {
            "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}}]})
    rows = _count("district files", [
        ("a text file named .geojson", b"districts\n", "d.geojson"),
        ("a PDF named .gpkg", PDF, "d.gpkg"),
        ("random bytes named .zip", RNG.randbytes(1024), "d.zip"),
        ("an image", png(Image.new("RGB", (8, 8))), "d.png"),
        ("a zip bomb", zip_bomb(), "d.zip"),
        ("districts at sea off Africa", sea.encode(), "d.geojson"),
        ("no such name field", json.dumps({"type": "FeatureCollection", "features": []})
         .encode(), "d.geojson"),
        ("Shift_JIS GeoJSON", sea.replace("海", "地区").encode("utf-16"), "d.geojson"),
    ])
    url = f"/api/v1/operations/{operation[0]}/districts/import"

    def api(_label, data, name):
        answer = refused_json(client.post(url, headers=admin, data={
            "file": (io.BytesIO(data), name), "name_field": "name"}), (422,))
        assert set(answer["fields"]) & {"file", "name_field"}, answer

    run_table(rows, api)
    login("admin")

    def page(_label, data, name):
        text = refused_page(client.post(f"/o/{operation[0]}/districts/import", data={
            "file": (io.BytesIO(data), name), "name_field": "name"}), (422,))
        assert set(field_errors(text)) & {"file", "name_field"}, text[:800]

    run_table(rows[:4], page)


# --- forms and JSON with missing or absurd values -------------------------------------------

LONG = "長" * 10_000
NEED_ROWS = [
    # (label, changes, field at fault)
    ("negative people", {"people_min": -3}, "people_min"),
    ("zero people", {"people_min": 0, "people_max": 0}, "people_min"),
    ("min over max", {"people_min": 6, "people_max": 2}, "people_max"),
    ("absurd people", {"people_max": 10_000}, "people_max"),
    ("point in the Pacific", {"lat": 30.0, "lon": 145.0}, "lat"),
    ("point in Tokyo Bay's far sea", {"lat": 33.0, "lon": 139.6}, "lat"),
    ("Null Island", {"lat": 0.0, "lon": 0.0}, "lat"),
    ("latitude past the pole", {"lat": 91.0, "lon": 139.5}, "lat"),
    ("latitude without longitude", {"lat": 35.7, "lon": None}, "lat"),
    ("10,000-character name", {"requester_name": LONG}, "requester_name"),
    ("empty name", {"requester_name": ""}, "requester_name"),
    ("10,000-character address", {"address": LONG}, "address"),
    ("negative hours", {"est_hours": -2}, "est_hours"),
    ("phone of letters", {"phone": "abc-defg-hijk"}, "phone"),
    ("unknown category", {"category": "rescue"}, "category"),
]
NEED_JSON_ROWS = [
    ("people as words", {"people_min": "three"}, "people_min"),
    ("people as a fraction", {"people_min": 2.5}, "people_min"),
    ("people as null", {"people_min": None}, "people_min"),
    ("name as an object", {"requester_name": {"first": "花子"}}, "requester_name"),
    ("name as a list", {"requester_name": ["高橋"]}, "requester_name"),
    ("latitude as text", {"lat": "north"}, "lat"),
    ("latitude as NaN", {"lat": float("nan")}, "lat"),
    ("elderly as a number", {"elderly": 7}, "elderly"),
    ("skills as an object", {"skills": {"a": 1}}, "skills"),
    ("NUL in the name (PostgreSQL cannot store it)", {"requester_name": "高橋\x00ハナ"},
     "requester_name"),
    ("NUL in a skill", {"skills": ["driving", "\x00"]}, "skills"),
]


def test_needs_api_names_the_field_at_fault(client, operation, admin):
    url = f"/api/v1/operations/{operation[0]}/needs"
    rows = _count("needs API", NEED_ROWS + NEED_JSON_ROWS)

    def check(_label, changes, field):
        body = need_body(**changes)
        answer = refused_json(client.post(url, headers=admin, data=json.dumps(body),
                                          content_type="application/json"), (400, 422))
        assert names(answer["fields"], field), answer["fields"]
        assert all(not message.startswith("{") for message in answer["fields"].values())

    run_table(rows, check)
    moved = refused_json(client.put(f"/api/v1/needs/{_a_need(client, url, admin)}/point",
                                    headers=admin, json={"lat": 30.0, "lon": 145.0}), (422,))
    assert "lat" in moved["fields"]
    missing = refused_json(client.post(url, headers=admin, json={}), (422,))
    assert {"requester_name", "address", "category"} <= set(missing["fields"])
    # In the user's language (through our catalogue), not marshmallow's English.
    ja = refused_json(client.post(url, headers=admin, json=need_body(people_min="three")))
    assert ja["fields"]["people_min"] == in_japanese(client.application,
                                                     "Enter a whole number.")
    en = refused_json(client.post(url, headers={**admin, "Accept-Language": "en"},
                                  json=need_body(people_max=900)))
    assert en["fields"]["people_max"] == "Between 1 and 500."


def _a_need(client, url, headers) -> int:
    return client.post(url, headers=headers, json=need_body()).get_json()["id"]


def test_needs_form_shows_each_error_beside_its_field(client, operation, login):
    login("admin")
    url = f"/o/{operation[0]}/needs/new"
    form = {"requester_name": "高橋 ハナ", "address": "架空市北町1-2-3", "category": "mud_removal",
            "people_min": "1", "people_max": "4", "lat": "35.70", "lon": "139.55"}
    rows = _count("needs form", [
        *((label, changes, field) for label, changes, field in NEED_ROWS
          if field not in ("category",)),
        ("people as words", {"people_min": "three"}, "people_min"),
        ("latitude as text", {"lat": "north"}, "lat"),
    ])

    def check(_label, changes, field):
        data = {**form, **{k: "" if v is None else str(v) for k, v in changes.items()}}
        page = refused_page(client.post(url, data=data), (422,))
        assert field in field_errors(page), (field, field_errors(page))

    run_table(rows, check)


REGISTRATION_ROWS = [
    ("born in 1900", {"birth_year": 1900}, "birth_year"),
    ("born in the future", {"birth_year": 2999}, "birth_year"),
    ("insured in 1900", {"insurance_date": "1900-01-01"}, "insurance_date"),
    ("insured in the far future", {"insurance_date": "2999-04-01"}, "insurance_date"),
    ("10,000-character name", {"name": LONG}, "name"),
    ("empty name", {"name": ""}, "name"),
    ("phone too short", {"phone": "123"}, "phone"),
    ("unknown prefecture", {"prefecture": "Atlantis"}, "prefecture"),
    ("a group of one", {"group_name": "A社", "group_size": 1}, "group_size"),
    ("a negative group", {"group_name": "A社", "group_size": -4}, "group_size"),
    ("10,000-character municipality", {"municipality": LONG}, "municipality"),
]
REGISTRATION_JSON_ROWS = [
    ("birth year as words", {"birth_year": "nineteen eighty"}, "birth_year"),
    ("birth year as null", {"birth_year": None}, "birth_year"),
    ("birth year as a fraction", {"birth_year": 1985.5}, "birth_year"),
    ("consent as an object", {"consent": {"yes": True}}, "consent"),
    ("skills as text", {"skills": "driving"}, "skills"),
    ("unknown skill", {"skills": ["flying"]}, "skills"),
    ("insurance date as a number", {"insurance_date": 20260401}, "insurance_date"),
]


def test_registration_api_names_the_field_at_fault(client, operation):
    url = f"/api/v1/operations/{operation[0]}/volunteers"
    rows = _count("registration API", REGISTRATION_ROWS + REGISTRATION_JSON_ROWS)

    def check(_label, changes, field):
        answer = refused_json(client.post(url, json=registration(**changes)), (422,))
        assert names(answer["fields"], field), answer["fields"]

    run_table(rows, check)


def test_registration_page_shows_each_error_beside_its_field(client, operation):
    url = f"/o/{operation[0]}/register"
    form = {k: v for k, v in registration().items() if k not in ("skills", "consent")}
    form.update(consent="y", skills="driving")
    rows = _count("registration page", REGISTRATION_ROWS + [
        ("birth year as words", {"birth_year": "nineteen eighty"}, "birth_year"),
        ("date as words", {"insurance_date": "last spring"}, "insurance_date"),
    ])

    def check(_label, changes, field):
        data = {**form, **{k: str(v) for k, v in changes.items()}}
        page = refused_page(client.post(url, data=data), (422,))
        assert field in field_errors(page), (field, field_errors(page))

    run_table(rows, check)


def test_sites_shelters_equipment_and_reports_name_the_field_at_fault(
        client, operation, admin, volunteer):
    op_id, main, satellite = operation
    shelter = client.post(f"/api/v1/operations/{op_id}/shelters", headers=admin, json={
        "name": "福祉センター", "lat": 35.69, "lon": 139.56, "capacity": 20}).get_json()["id"]
    item = client.post(f"/api/v1/operations/{op_id}/equipment/items", headers=admin,
                       json={"name": "スコップ"}).get_json()["id"]
    team = _a_team(client, op_id, main, admin, volunteer)
    rows = _count("sites, shelters, equipment, reports API", [
        ("site at sea", "post", f"/api/v1/operations/{op_id}/sites",
         {"name": "海上", "lat": 0.0, "lon": 0.0}, "lat"),
        ("site with a 10,000-character name", "post", f"/api/v1/operations/{op_id}/sites",
         {"name": LONG}, "name"),
        ("negative quota", "patch", f"/api/v1/sites/{satellite}", {"daily_quota": -5},
         "daily_quota"),
        ("quota as text", "patch", f"/api/v1/sites/{satellite}", {"daily_quota": "many"},
         "daily_quota"),
        ("opening at 25:99", "patch", f"/api/v1/sites/{satellite}", {"opens_at": "25:99"},
         "opens_at"),
        ("shelter in the Pacific", "post", f"/api/v1/operations/{op_id}/shelters",
         {"name": "洋上", "lat": 30.0, "lon": 145.0, "capacity": 5}, "lat"),
        ("negative capacity", "post", f"/api/v1/operations/{op_id}/shelters",
         {"name": "B", "lat": 35.69, "lon": 139.56, "capacity": -5}, "capacity"),
        ("capacity as null", "patch", f"/api/v1/shelters/{shelter}", {"capacity": None},
         "capacity"),
        ("negative occupancy", "post", f"/api/v1/shelters/{shelter}/occupancy",
         {"counts": {"wheelchair": -2}}, "wheelchair"),
        ("occupancy past any integer", "post", f"/api/v1/shelters/{shelter}/occupancy",
         {"counts": {"wheelchair": 2**70}}, "counts"),
        ("shelter request min over max", "post", f"/api/v1/shelters/{shelter}/requests",
         {"category": "cleaning", "description": "掃除", "people_min": 9, "people_max": 2},
         "people_max"),
        ("zero shovels", "post", f"/api/v1/operations/{op_id}/sites/{main}/equipment/receive",
         {"item_type_id": item, "quantity": 0}, "quantity"),
        ("negative shovels", "post",
         f"/api/v1/operations/{op_id}/sites/{main}/equipment/receive",
         {"item_type_id": item, "quantity": -10}, "quantity"),
        ("a trillion shovels", "post",
         f"/api/v1/operations/{op_id}/sites/{main}/equipment/receive",
         {"item_type_id": item, "quantity": 10**12}, "quantity"),
        ("shovels as text", "post",
         f"/api/v1/operations/{op_id}/sites/{main}/equipment/receive",
         {"item_type_id": item, "quantity": "ten"}, "quantity"),
        ("half a shovel", "post",
         f"/api/v1/operations/{op_id}/sites/{main}/equipment/receive",
         {"item_type_id": item, "quantity": 0.5}, "quantity"),
        ("an item past any id", "post",
         f"/api/v1/operations/{op_id}/sites/{main}/equipment/receive",
         {"item_type_id": 2**70, "quantity": 1}, "item_type_id"),
        ("negative count", "post", f"/api/v1/operations/{op_id}/sites/{main}/equipment/adjust",
         {"item_type_id": item, "on_hand": -1, "note": "棚卸"}, "on_hand"),
        ("lend a negative number", "post", f"/api/v1/teams/{team}/equipment/lend",
         {"items": [{"item_type_id": item, "quantity": -3}]}, "items.0.quantity"),
        ("lend as an object", "post", f"/api/v1/teams/{team}/equipment/lend",
         {"items": {"item_type_id": item}}, "items"),
        ("item type with a negative low mark", "post",
         f"/api/v1/operations/{op_id}/equipment/items", {"name": "バケツ", "low_stock": -1},
         "low_stock"),
        ("report: negative people next", "post", f"/api/v1/teams/{team}/report",
         {"outcome": "continuing", "remaining_work": "泥", "people_next": -4}, "people_next"),
        ("report: unknown outcome", "post", f"/api/v1/teams/{team}/report",
         {"outcome": "maybe"}, "outcome"),
        ("report: continuing with nothing left", "post", f"/api/v1/teams/{team}/report",
         {"outcome": "continuing"}, "remaining_work"),
        ("report: an injury of 10,000 characters", "post", f"/api/v1/teams/{team}/report",
         {"outcome": "completed", "incidents": [{"kind": "injury", "description": LONG}]},
         "incidents.0.description"),
        ("report: an injury to nobody we know", "post", f"/api/v1/teams/{team}/report",
         {"outcome": "completed", "incidents": [
             {"kind": "injury", "description": "転倒", "volunteer_id": 999_999}]},
         "volunteer_id"),
    ])

    def check(_label, method, url, body, field):
        answer = refused_json(getattr(client, method)(url, headers=admin, json=body), (422,))
        assert names(answer["fields"], field), answer["fields"]

    run_table(rows, check)


def _a_team(client, op_id, main, headers, volunteer) -> int:
    client.post(f"/api/v1/operations/{op_id}/checkins", headers=headers,
                json={"code": volunteer["code"], "site_id": main, "health_ok": True})
    need = client.post(f"/api/v1/operations/{op_id}/needs", headers=headers,
                       json=need_body(people_min=1)).get_json()["id"]
    client.patch(f"/api/v1/needs/{need}", headers=headers, json={"status": "ready"})
    team = client.post(f"/api/v1/operations/{op_id}/teams", headers=headers, json={
        "need_id": need, "member_ids": [volunteer["id"]], "leader_id": volunteer["id"]})
    assert team.status_code == 201, team.get_json()
    team_id = team.get_json()["id"]
    client.post(f"/api/v1/teams/{team_id}/dispatch", headers=headers, json={})
    return team_id


def test_team_report_page_shows_each_error_beside_its_field(client, operation, admin, volunteer,
                                                            login):
    op_id, main, _sat = operation
    team = _a_team(client, op_id, main, admin, volunteer)
    login("admin")
    rows = _count("team report page", [
        ("negative people next", {"outcome": "continuing", "remaining_work": "泥",
                                  "people_next": "-4"}, "people_next"),
        ("people next as words", {"outcome": "continuing", "remaining_work": "泥",
                                  "people_next": "five"}, "people_next"),
        ("no outcome", {}, "outcome"),
        ("continuing with nothing left", {"outcome": "continuing"}, "remaining_work"),
        ("an injury of 10,000 characters", {"outcome": "completed", "injury": LONG}, "injury"),
    ])

    def check(_label, data, field):
        page = refused_page(client.post(f"/o/{op_id}/teams/{team}/report", data=data), (422,))
        assert field in field_errors(page), (field, field_errors(page))

    run_table(rows, check)


def test_bad_input_figures():
    """Print how many bad inputs the tables hold (for the README); run with -s."""
    print(f"\nbad inputs: {sum(TOTALS.values())} rows in {len(TOTALS)} tables: {TOTALS}")
