"""Low-level codec helpers: PNG header peeking, a gray + alpha PNG writer, quiet decoders."""

from __future__ import annotations

import logging
import os
import struct
import sys
import threading
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Decoded channels per PNG colour type (palette counted as RGBA: it may carry tRNS).
_PNG_CHANNELS = {0: 1, 2: 3, 3: 4, 4: 2, 6: 4}


@dataclass(frozen=True)
class PngHeader:
    width: int
    height: int
    bit_depth: int
    color_type: int  # 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA

    @property
    def channels(self) -> int:
        return _PNG_CHANNELS.get(self.color_type, 4)


def read_png_header(buf: np.ndarray | bytes) -> PngHeader | None:
    """The IHDR of PNG bytes, or ``None`` when ``buf`` does not start like a PNG."""
    head = bytes(buf[:33])
    if len(head) < 33 or head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        return None
    width, height, depth, color_type = struct.unpack(">IIBB", head[16:26])
    return PngHeader(width, height, depth, color_type)


def _chunk(tag: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(tag + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", crc)


def encode_png_gray_alpha(gray: np.ndarray, alpha: np.ndarray, level: int = 6) -> bytes:
    """PNG bytes (colour type 4) of ``H x W`` uint8 or uint16 gray and alpha samples.

    OpenCV cannot write gray + alpha PNGs; this writes the minimal valid file (IHDR, one
    IDAT with filter type 0 on every row, IEND).
    """
    if gray.shape != alpha.shape or gray.ndim != 2:
        raise ValueError(f"gray {gray.shape} and alpha {alpha.shape} must be equal 2-D shapes")
    if gray.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"PNG samples must be uint8 or uint16, got {gray.dtype}")
    h, w = gray.shape
    depth = gray.dtype.itemsize * 8
    px = np.stack([gray, alpha.astype(gray.dtype)], axis=-1)
    px = px.astype(">u2" if depth == 16 else np.uint8)
    rows = np.ascontiguousarray(px).reshape(h, -1).view(np.uint8)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1).tobytes()
    ihdr = struct.pack(">IIBBBBB", w, h, depth, 4, 0, 0, 0)
    return (PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(raw, level))
            + _chunk(b"IEND", b""))


_log_lock = threading.Lock()
_log_depth = 0
_log_saved: int | None = None
_tifffile_log_saved = False
_stderr_saved: int | None = None


def _mute_fd2() -> int | None:
    """Point file descriptor 2 at /dev/null (libpng, libjpeg and libtiff print their own
    'libpng error: ...' there, before our one-line error); returns the saved descriptor."""
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError, OSError):
        pass
    try:
        saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return None
    try:
        os.dup2(null, 2)
    except OSError:
        os.close(saved)
        return None
    finally:
        os.close(null)
    return saved


def _unmute_fd2(saved: int | None) -> None:
    if saved is None:
        return
    try:
        os.dup2(saved, 2)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(saved)


@contextmanager
def quiet_decoders() -> Iterator[None]:
    """Silence OpenCV's and tifffile's own logging, and the C libraries' own messages on
    file descriptor 2, while decoding/encoding.

    The caller raises a clear error instead; the raw library messages would only be noise on
    stderr. Nested and concurrent uses are counted, the levels are restored by the last one.
    """
    global _log_depth, _log_saved, _tifffile_log_saved, _stderr_saved
    try:
        import cv2

        log = cv2.utils.logging
        log.getLogLevel  # noqa: B018 - probe the API
    except (ImportError, AttributeError):  # pragma: no cover
        log = None
    tif_logger = logging.getLogger("tifffile")
    with _log_lock:
        if _log_depth == 0:
            if log is not None:
                _log_saved = log.getLogLevel()
                log.setLogLevel(log.LOG_LEVEL_SILENT)
            _tifffile_log_saved = tif_logger.disabled
            tif_logger.disabled = True
            _stderr_saved = _mute_fd2()
        _log_depth += 1
    try:
        yield
    finally:
        with _log_lock:
            _log_depth -= 1
            if _log_depth == 0:
                if log is not None and _log_saved is not None:
                    log.setLogLevel(_log_saved)
                tif_logger.disabled = _tifffile_log_saved
                _unmute_fd2(_stderr_saved)
                _stderr_saved = None
