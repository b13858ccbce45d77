"""Seam 5: Kind "detect" recognises a normal map (16-bit DiLiGenT-style) and offers the mask
file beside it; photos stay RGB."""

from __future__ import annotations

import numpy as np

from core.io import save
from core.data import ImageData, Units
from core.app.inputs import detect_kind
from core.io import load
from tests.gui.util import wait_idle


def _sphere(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    y, x = np.mgrid[-1:1:n * 1j, -1:1:n * 1j]
    r2 = x * x + y * y
    inside = r2 < 0.8
    z = np.sqrt(np.clip(1 - r2, 0, 1))
    nrm = np.stack([x, -y, z], axis=2) * inside[..., None]
    px = np.where(inside[..., None], (nrm + 1) / 2, 0.0).astype(np.float32)
    return px, inside


def _write(folder, bits: int = 16):
    px, inside = _sphere()
    dtype = np.uint16 if bits == 16 else np.uint8
    save(ImageData(px, kind="rgb", units=Units.for_dtype(dtype)),
         folder / "normal_map.png")
    m = inside.astype(np.float32)[..., None]
    save(ImageData(m, kind="gray", units=Units.for_dtype("uint8")), folder / "mask.png")
    return folder / "normal_map.png"


def test_detect_kind_on_files(tmp_path, astronaut):
    path = _write(tmp_path)
    found = detect_kind(load(path), path)
    assert found.kind == "normals" and found.mask == tmp_path / "mask.png"
    assert detect_kind(astronaut).kind == "rgb"
    flat = astronaut.with_pixels(np.full((64, 64, 3), 0.5, np.float32))   # a grey picture
    assert detect_kind(flat).kind == "rgb"


def test_window_opens_a_normal_map_as_normals_with_its_mask(qtbot, window, dialogs, tmp_path):
    path = _write(tmp_path)
    c, s = window.controllers, window.session
    assert c.inputs.open_input(path)
    wait_idle(qtbot, c)
    assert s.source.kind == "normals" and s.state.kind is None   # detected, not forced
    assert any("mask.png" in q for q in dialogs.questions)
    assert c.normals.options()["mask"] == str(tmp_path / "mask.png")
    nmap = c.normals.source_normals()
    assert nmap is not None and nmap.mask.sum() == _sphere()[1].sum()
    # the next file does not inherit the mask of this one
    other = tmp_path / "other"
    other.mkdir()
    p2 = other / "n.png"
    save(ImageData(_sphere(48)[0], kind="rgb", units=Units.for_dtype("uint8")), p2)
    assert c.inputs.open_input(p2)
    assert s.source.kind == "normals" and not c.normals.options()["mask"]
