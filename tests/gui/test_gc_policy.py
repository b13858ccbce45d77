"""Cyclic garbage is collected only from the UI thread's event loop (gui.startup): automatic
collection inside a Qt call once deadlocked window construction in QObject::disconnect."""

from __future__ import annotations

import gc


def test_garbage_is_collected_by_a_ui_timer_not_automatically(window, qtbot):
    from gui.startup import garbage_collector

    assert not gc.isenabled()
    collector = garbage_collector()
    assert collector is not None and collector.timer.isActive()

    class Cycle:
        pass

    before = gc.get_count()[0]
    junk = [Cycle() for _ in range(5000)]
    for a in junk:
        a.me = a          # reference cycles: only the cyclic collector frees them
    del junk
    assert gc.get_count()[0] > before
    qtbot.waitUntil(lambda: gc.get_count()[0] < 1000, timeout=5000)   # the 1 s timer ran
