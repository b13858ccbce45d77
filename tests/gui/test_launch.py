"""Launch from a script: ``main.py IMAGE [HR] --models a,b --scale S [--degrade] [--run]
[--roi X,Y,W,H]`` opens the window configured; Help > Keyboard shortcuts lists them all."""

from __future__ import annotations

import pytest

from core.errors import InputError
from gui.launch import apply_launch, parse_launch
from gui.menus import shortcut_rows

from .util import wait_idle


def test_parse_launch():
    o = parse_launch(["a.png", "b.png", "--models", "bicubic,liif", "--scale", "3", "--run",
                      "--roi", "1,2,30,40"])
    assert o.paths == ["a.png", "b.png"] and o.models == ["bicubic", "liif"]
    assert o.scale == 3.0 and o.run and not o.degrade and o.roi == (1, 2, 30, 40)
    assert parse_launch([]).paths == []
    for bad in (["--roi", "1,2"], ["--scale", "x"], ["--scale", "-2"], ["--nope"]):
        with pytest.raises(InputError):
            parse_launch(bad)


def test_launch_opens_configured_and_runs(qtbot, window, small_png):
    opts = parse_launch([str(small_png), "--degrade", "--models", "nearest,bicubic", "--scale",
                         "2", "--roi", "10,12,40,30", "--run"])
    assert apply_launch(window, opts)
    c, s = window.controllers, window.session
    wait_idle(qtbot, c)
    assert s.state.input_path.endswith("face.png") and s.state.reference == "degrade"
    assert s.state.scale == 2.0 and s.state.models == ["nearest", "bicubic"]
    assert s.state.roi == (10, 12, 40, 30)
    assert set(s.results) == {"nearest", "bicubic"}, window.errors
    assert window.metrics.text_for("bicubic", "PSNR ROI (dB)") not in ("", "-")


def test_launch_names_an_unknown_model(window, small_png):
    assert not apply_launch(window, parse_launch([str(small_png), "--models", "bicubic,nope"]))
    assert "unknown model 'nope'" in window.errors[-1] and "bicubic" in window.errors[-1]
    assert window.session.state.models == ["bicubic"]


def test_keyboard_shortcuts_dialog_lists_every_shortcut(window):
    rows = shortcut_rows(window)
    keys = {k for _menu, _text, k in rows}
    for want in ("Ctrl+R", "Ctrl+O", "Ctrl+Shift+F", "Ctrl+Shift+O", "Ctrl+0", "R"):
        assert want in keys, keys
    shown = {a.shortcut().toString() for a in window.findChildren(type(window.open_action))
             if not a.shortcut().isEmpty()}
    assert shown <= keys | {""}
    assert any(text.startswith("Left / Right") for _m, text, _k in rows)
    dlg = window.shortcuts_dialog()
    assert dlg.table.rowCount() == len(rows)
