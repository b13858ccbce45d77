"""``sr`` without --kind recognises a normal map, takes the mask beside it and splits it."""

from __future__ import annotations

from main import main
from core.io import load
from tests.gui.test_detect_normals import _write


def test_sr_detects_a_normal_map_and_its_mask(tmp_path, capsys):
    path = _write(tmp_path)
    out = tmp_path / "x2.png"
    assert main(["sr", str(path), "-m", "bicubic", "-s", "2", "-o", str(out), "-q"]) == 0
    err = capsys.readouterr().err
    assert "a normal map" in err and "mask.png" in err and "normals (split" in err
    back = load(out, kind="normals")
    assert back.pixels.shape == (128, 128, 3)
    # told otherwise, it is an image
    out2 = tmp_path / "rgb.png"
    assert main(["sr", str(path), "--kind", "rgb", "-m", "bicubic", "-s", "2", "-o", str(out2),
                 "-q"]) == 0
    assert "normal map" not in capsys.readouterr().err
