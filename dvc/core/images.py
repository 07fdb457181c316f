"""Open images people upload (need photos, camera frames) without trusting them."""
from __future__ import annotations

import io
import struct

from PIL import Image

# A 48-megapixel phone photo is the largest honest upload; a header claiming more is a
# decompression bomb (a few KB that would unpack to gigabytes), refused before any pixel is read.
MAX_PIXELS = 50_000_000
# What a truncated, corrupt or hostile file makes Pillow raise while it reads one.
UNREADABLE = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, KeyError,
              ZeroDivisionError, struct.error, Image.DecompressionBombError,
              Image.DecompressionBombWarning)


class ImageRefused(Exception):
    """The upload is not an image we read; `reason` is "unreadable" or "too_large"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def open_image(blob: bytes, *, max_pixels: int = MAX_PIXELS, load: bool = True) -> Image.Image:
    """Return the image in `blob`, its size checked from the header before anything is decoded;
    `load=False` only checks the file's structure (Image.verify) and returns it unusable."""
    try:
        image = Image.open(io.BytesIO(blob))
        pixels = image.width * image.height
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused("too_large") from None
    except UNREADABLE:
        raise ImageRefused("unreadable") from None
    if pixels > max_pixels:
        raise ImageRefused("too_large")
    try:
        if pixels <= 0:
            raise ValueError("no pixels")
        if load:
            image.load()
        else:
            image.verify()
    except UNREADABLE:
        raise ImageRefused("unreadable") from None
    return image
