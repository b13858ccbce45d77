"""Message boxes in one place (tests patch ``QMessageBox`` so that nothing blocks)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

__all__ = ["show_error", "ask_yes_no", "TITLE"]

TITLE = "SR Workbench"


def show_error(parent: QWidget | None, message: str) -> None:
    """A readable error; the window stays as it was."""
    QMessageBox.warning(parent, TITLE, message)


def ask_yes_no(parent: QWidget | None, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, f"{TITLE}: {title}", text,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.Yes)
    return answer == QMessageBox.StandardButton.Yes
