"""Hostile and broken input files for tests/test_hostile*.py, built on the fly (issue #19).

Every builder writes small files into a folder and returns their paths; nothing here is
large on disk: the hostility is in what the headers, hyperparameters or strides *claim*.
"""

from __future__ import annotations

import os
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


class Payload:
    """Unpickling this runs ``touch MARKER``: loading it is code execution."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def png(path: Path, h: int = 16, w: int = 16, value: int | None = None) -> Path:
    import cv2

    rng = np.random.default_rng(0)
    img = (rng.random((h, w, 3)) * 255).astype(np.uint8) if value is None else \
        np.full((h, w, 3), value, np.uint8)
    cv2.imwrite(str(path), img)
    return path


def normal_png(path: Path, size: int = 16) -> Path:
    import cv2

    cv2.imwrite(str(path), np.full((size, size, 3), [255, 128, 128], np.uint8))  # BGR: +z
    return path


def _chunk(tag: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + tag + payload + \
        struct.pack(">I", zlib.crc32(tag + payload) & 0xFFFFFFFF)


def png_bomb(path: Path, side: int = 30000) -> Path:
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    raw = zlib.compress(b"\0" * (side * 3 + 1) * 4)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", raw)
                     + _chunk(b"IEND", b""))
    return path


def jpeg_bomb(path: Path, side: int = 30000) -> Path:
    import cv2

    ok, buf = cv2.imencode(".jpg", np.zeros((16, 16, 3), np.uint8))
    b = bytearray(buf.tobytes())
    i = b.find(b"\xff\xc0")
    b[i + 5:i + 9] = struct.pack(">HH", side, side)
    path.write_bytes(bytes(b))
    return path


def bmp_bomb(path: Path, side: int = 30000) -> Path:
    header = struct.pack("<2sIHHI", b"BM", 54 + 16, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, side, side, 1, 24, 0, 0, 2835, 2835, 0, 0)
    path.write_bytes(header + info + b"\0" * 16)
    return path


def webp_bomb(path: Path, side: int = 16384) -> Path:
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\0\0\0\0" + (side - 1).to_bytes(3, "little") \
        + (side - 1).to_bytes(3, "little")
    body = b"WEBP" + vp8x + b"VP8L" + struct.pack("<I", 8) + b"\x2f" + b"\0" * 7
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def exr_bomb(path: Path, side: int = 30000) -> Path | None:
    import cv2

    try:
        ok, buf = cv2.imencode(".exr", np.zeros((4, 4, 3), np.float32))
    except cv2.error:
        return None
    if not ok:
        return None
    b = bytearray(buf.tobytes())
    i = b.find(b"dataWindow\0box2i\0")
    if i < 0:
        return None
    v = i + len(b"dataWindow\0box2i\0") + 4
    b[v:v + 16] = struct.pack("<iiii", 0, 0, side - 1, side - 1)
    path.write_bytes(bytes(b))
    return path


def truncated_png(path: Path) -> Path:
    import cv2

    ok, buf = cv2.imencode(".png", (np.random.default_rng(1).random((64, 64, 3)) * 255)
                           .astype(np.uint8))
    path.write_bytes(buf.tobytes()[:300])
    return path


def bad_zlib_png(path: Path) -> Path:
    ihdr = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
                     + _chunk(b"IDAT", b"\x78\x9c" + b"\xff" * 40) + _chunk(b"IEND", b""))
    return path


def npy_claiming(path: Path, shape: tuple[int, ...]) -> Path:
    """A .npy whose header claims ``shape`` (float32) but holds 64 bytes of data."""
    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    text = repr(header).encode("latin1")
    pad = 64 - (10 + len(text) + 1) % 64
    text = text + b" " * pad + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + b"\0" * 64)
    return path


def edsr_checkpoint(path: Path, **hparams) -> Path:
    """Our format, a tiny EDSR's tensors, with ``hparams`` overriding what it declares."""
    import torch

    from core.models import save_checkpoint
    from core.models.archs import edsr

    model = edsr.SPEC.build(n_feats=8, n_resblocks=1, scale=2)
    save_checkpoint(model, path)
    obj = torch.load(path, weights_only=True)
    obj["hparams"] = {**obj["hparams"], **hparams}
    torch.save(obj, path)
    return path


def expanded_tensor(path: Path, side: int) -> Path:
    import torch

    torch.save({"weight": torch.zeros(1).expand(side, side)}, path)
    return path


def liif_wide(path: Path, hidden: int = 300000) -> Path:
    import torch

    from tests.helpers import tiny_liif

    model = tiny_liif()
    spec = dict(model.spec)
    args = dict(spec["args"])
    args["imnet_spec"] = {"name": "mlp", "args": {"out_dim": 3, "hidden_list": [hidden] * 2}}
    torch.save({"model": {"name": "liif", "args": args, "sd": model.state_dict()}}, path)
    return path


def pickle_payload(path: Path, marker: Path, zip_format: bool) -> Path:
    import torch

    if zip_format:
        torch.save({"state_dict": Payload(marker)}, path)
    else:
        path.write_bytes(pickle.dumps({"state_dict": Payload(marker)}, protocol=2))
    return path


def train_state(path: Path, info: dict | None, model: dict | None) -> Path:
    import torch

    obj: dict = {"format": "srw-train-v1", "step": 1}
    if info is not None:
        obj.update(model_info=info, model=model, config={"name": "x"})
    torch.save(obj, path)
    return path


def edsr_state(n_feats: int = 8) -> tuple[dict, dict]:
    from core.models.archs import edsr

    model = edsr.SPEC.build(n_feats=n_feats, n_resblocks=1, scale=2)
    return {"arch": "edsr", "hparams": dict(model.hparams)}, model.state_dict()


def mzsr_payload(path: Path, marker: Path) -> Path:
    import torch

    torch.save({"format": "srw-mzsr-1", "x": Payload(marker)}, path)
    return path


def npz_claiming(path: Path, shape: tuple[int, ...]) -> Path:
    """A .npz whose one member's header claims ``shape``."""
    import zipfile

    member = path.with_suffix(".member.npy")
    npy_claiming(member, shape)
    with zipfile.ZipFile(path, "w") as z:
        z.write(member, "H.npy")
    member.unlink()
    return path


def h5_claiming(path: Path, shape: tuple[int, ...]) -> Path | None:
    """An HDF5 file with a chunked dataset of ``shape`` and no chunk written (a few KB)."""
    try:
        import h5py
    except ImportError:
        return None
    with h5py.File(path, "w") as f:
        f.create_dataset("H", shape=shape, dtype="complex64", chunks=(64, 64, 1))
    return path


def tiff_bomb(path: Path, side: int = 30000) -> Path:
    """A hand-made TIFF header: one gray strip of ``side`` x ``side`` that is not there."""
    tags = [(256, 4, side), (257, 4, side), (258, 3, 8), (259, 3, 1), (262, 3, 1),
            (273, 4, 8), (277, 3, 1), (278, 4, side), (279, 4, side * side)]
    ifd = struct.pack("<H", len(tags)) + b"".join(
        struct.pack("<HHI", tag, typ, 1) + (struct.pack("<HH", val, 0) if typ == 3
                                            else struct.pack("<I", val))
        for tag, typ, val in tags) + struct.pack("<I", 0)
    path.write_bytes(b"II*\0" + struct.pack("<I", 8) + ifd + b"\0" * 64)
    return path


def pgm_bomb(path: Path, side: int = 30000) -> Path:
    """A PGM header claiming ``side`` x ``side`` (OpenCV decodes PxM whatever the name)."""
    path.write_bytes(f"P5\n{side} {side}\n255\n".encode() + b"\0" * 64)
    return path
