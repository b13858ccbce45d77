"""The window fits a 1366-pixel laptop screen, and its side panel shows every box unclipped."""

from __future__ import annotations


def test_window_fits_a_laptop_screen(window):
    assert window.minimumSizeHint().width() <= 1366
    for i in range(window.tabs.count()):  # no tab alone forces more than the space it has
        assert window.tabs.widget(i).minimumSizeHint().width() <= 1366 - 383, \
            window.tabs.tabText(i)


def test_side_panel_is_not_clipped(window):
    scroll = window.centralWidget().widget(0)
    side = scroll.widget()
    window.resize(1366, 768)
    window.show()
    assert scroll.viewport().width() >= side.minimumSizeHint().width()
