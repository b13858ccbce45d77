"""Image sizes read from file headers, before anything is decoded.

A 1 KB JPEG can claim 30000 x 30000 pixels; decoding it first takes gigabytes. These readers
look only at the first bytes of the file (the JPEG SOF segment, the BMP info header, the WebP
VP8/VP8L/VP8X chunk, the EXR ``dataWindow`` and ``channels`` attributes) and return
``(width, height, channels)`` or None when the header cannot be read (the decoder then reports
the file as corrupt). PNG and TIFF headers are read in :mod:`core.io._codecs` and
:mod:`core.io.images`.
"""

from __future__ import annotations

import struct

__all__ = ["image_header"]

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(b: bytes) -> tuple[int, int, int] | None:
    if b[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 4 <= len(b):
        if b[i] != 0xFF:
            return None
        marker = b[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", b[i + 2:i + 4])
        if marker in _SOF:
            if i + 10 > len(b):
                return None
            h, w = struct.unpack(">HH", b[i + 5:i + 9])
            return w, h, max(1, b[i + 9])
        if marker == 0xDA or length < 2:  # scan data before any SOF: not a valid JPEG
            return None
        i += 2 + length
    return None


def _bmp(b: bytes) -> tuple[int, int, int] | None:
    if b[:2] != b"BM" or len(b) < 30:
        return None
    (hsize,) = struct.unpack("<I", b[14:18])
    if hsize == 12:
        w, h, _, bpp = struct.unpack("<HHHH", b[18:26])
    else:
        w, h, _, bpp = struct.unpack("<iiHH", b[18:30])
    return abs(w), abs(h), 4 if bpp == 32 else (1 if bpp == 8 else 3)


def _webp(b: bytes) -> tuple[int, int, int] | None:
    if len(b) < 30 or b[:4] != b"RIFF" or b[8:12] != b"WEBP":
        return None
    chunk = b[12:16]
    if chunk == b"VP8X":
        w = 1 + int.from_bytes(b[24:27], "little")
        h = 1 + int.from_bytes(b[27:30], "little")
        return w, h, 4
    if chunk == b"VP8L":
        bits = int.from_bytes(b[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF), 4
    if chunk == b"VP8 ":
        w, h = struct.unpack("<HH", b[26:30])
        return w & 0x3FFF, h & 0x3FFF, 3
    return None


def _exr(b: bytes) -> tuple[int, int, int] | None:
    if b[:4] != b"\x76\x2f\x31\x01":
        return None
    b = b[:65536]  # the header: attributes before the offset table
    i, size, channels = 8, None, 0
    while i < len(b) and b[i] != 0:
        try:
            name_end = b.index(b"\0", i)
            type_end = b.index(b"\0", name_end + 1)
        except ValueError:
            return None
        name = b[i:name_end]
        (n,) = struct.unpack("<i", b[type_end + 1:type_end + 5])
        value = b[type_end + 5:type_end + 5 + n]
        if n < 0 or len(value) < n:
            return None
        if name == b"dataWindow" and n == 16:
            x0, y0, x1, y1 = struct.unpack("<iiii", value)
            size = (x1 - x0 + 1, y1 - y0 + 1)
        elif name == b"channels":  # chlist: (name\0, 16 bytes) per channel, then \0
            j = 0
            while j < len(value) and value[j] != 0:
                j = value.index(b"\0", j) + 17
                channels += 1
        i = type_end + 5 + n
    if size is None:
        return None
    return size[0], size[1], channels or 3


def image_header(head: bytes, ext: str) -> tuple[int, int, int] | None:
    """``(width, height, channels)`` claimed by the first bytes of an image file, or None.

    ``head`` should hold the whole file (JPEG metadata segments, EXIF or ICC, can come before
    the size); ``ext`` is the lower-case extension, used only as a hint: every reader checks
    its magic. Only the segment headers are visited, so this is cheap for any size.
    """
    for reader in (_jpeg, _bmp, _webp, _exr):
        try:
            found = reader(head)
        except (struct.error, IndexError, ValueError):
            found = None
        if found is not None:
            return found
    return None
