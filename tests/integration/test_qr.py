"""The QR image the app serves decodes back to the code, and that text checks the volunteer in."""
from __future__ import annotations

import io

import zxingcpp
from PIL import Image


def test_served_png_decodes_to_the_token_and_checks_in(client, operation, register, token_for):
    op_id, main, _ = operation
    body = register()
    png = client.get(f"/v/{body['code']}/qr.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert [r.text for r in decoded] == [body["code"]]
    response = client.post(f"/api/v1/operations/{op_id}/checkins", headers=token_for("reception"),
                           json={"code": decoded[0].text, "site_id": main, "health_ok": True})
    assert response.status_code == 201
    assert response.get_json()["volunteer"]["id"] == body["id"]


def test_svg_is_served_for_print(client, register):
    svg = client.get(f"/v/{register()['code']}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data


def test_camera_frame_is_decoded_by_the_server(client, operation, register, token_for):
    body = register()
    png = client.get(f"/v/{body['code']}/qr.png").data
    # A camera frame: the code small and off-centre on a grey background, as JPEG.
    frame = Image.new("RGB", (1280, 720), (128, 128, 128))
    frame.paste(Image.open(io.BytesIO(png)).convert("RGB").resize((300, 300)), (700, 200))
    buf = io.BytesIO()
    frame.save(buf, format="JPEG", quality=85)
    response = client.post("/api/v1/decode", headers=token_for("reception"),
                           data={"image": (io.BytesIO(buf.getvalue()), "frame.jpg")})
    assert response.status_code == 200
    assert response.get_json()["text"] == body["code"]


def test_decode_refuses_non_images_and_frames_without_a_code(client, token_for):
    headers = token_for("reception")
    junk = client.post("/api/v1/decode", headers=headers,
                       data={"image": (io.BytesIO(b"not an image"), "x.jpg")})
    assert junk.status_code == 422 and junk.get_json()["fields"] == {"image": "unreadable"}
    blank = io.BytesIO()
    Image.new("RGB", (200, 200), "white").save(blank, format="PNG")
    empty = client.post("/api/v1/decode", headers=headers,
                        data={"image": (io.BytesIO(blank.getvalue()), "x.png")})
    assert empty.status_code == 404 and empty.get_json()["error"] == "no_code_found"
