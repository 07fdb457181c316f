"""Make QR images of codes (qrcode) and read them back from camera frames (zxing-cpp)."""
from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
import zxingcpp
from flask_babel import gettext as _

from dvc.core.errors import Invalid, NotFound
from dvc.core.images import UNREADABLE, ImageRefused, open_image

MAX_PIXELS = 4000 * 4000


def _qr(data: str, **kwargs) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, **kwargs)
    code.add_data(data, optimize=0)  # an upper-case alphanumeric code stays in one segment
    code.make(fit=True)
    return code


def png(data: str, box_size: int = 10) -> bytes:
    """Return a PNG of the QR code for `data`."""
    buf = io.BytesIO()
    _qr(data, box_size=box_size).make_image().save(buf, format="PNG")
    return buf.getvalue()


def svg(data: str) -> bytes:
    """Return an SVG of the QR code for `data` (sharp at any print size)."""
    buf = io.BytesIO()
    _qr(data, image_factory=qrcode.image.svg.SvgPathImage).make_image().save(buf)
    return buf.getvalue()


def decode_image(blob: bytes) -> str:
    """Return the text of the first QR code in an image, or say clearly why there is none."""
    try:
        image = open_image(blob, max_pixels=MAX_PIXELS)
    except ImageRefused as err:
        if err.reason == "too_large":
            raise Invalid(_("The image is too large."), fields={"image": "too_large"}) from None
        raise Invalid(_("This is not an image we can read."), fields={"image": "unreadable"}) \
            from None
    try:
        grey = image.convert("L")
    except UNREADABLE:
        raise Invalid(_("This is not an image we can read."), fields={"image": "unreadable"}) \
            from None
    results = zxingcpp.read_barcodes(grey, formats=zxingcpp.BarcodeFormat.QRCode)
    if not results:
        raise NotFound(_("No QR code found in the image."), code="no_code_found")
    return results[0].text
