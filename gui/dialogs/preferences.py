"""Preferences: default device, precision, tile size, theme, checkpoint folders (persisted)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QListWidget,
    QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from ..settings import DEVICES, PRECISIONS, THEMES, Settings

__all__ = ["PreferencesDialog"]


class PreferencesDialog(QDialog):
    """Edits a :class:`Settings`; ``apply()`` writes the values back (OK calls it)."""

    def __init__(self, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.settings = settings
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        self.device.setCurrentText(settings.device)
        self.precision = QComboBox()
        self.precision.addItems(PRECISIONS)
        self.precision.setCurrentText(settings.precision)
        self.tile = QSpinBox()
        self.tile.setRange(0, 8192)
        self.tile.setSingleStep(64)
        self.tile.setSpecialValueText("auto")
        self.tile.setValue(settings.tile or 0)
        self.max_mp = QSpinBox()
        self.max_mp.setRange(0, 100000)
        self.max_mp.setSuffix(" MP")
        self.max_mp.setSpecialValueText("default (100 MP)")
        self.max_mp.setValue(settings.max_megapixels)
        self.max_mp.setToolTip("Images whose header claims more pixels are refused before "
                               "decoding")
        self.theme = QComboBox()
        self.theme.addItems(THEMES)
        self.theme.setCurrentText(settings.theme)
        self.folders = QListWidget()
        self.folders.addItems(settings.checkpoint_folders)
        add = QPushButton("Add folder…")
        remove = QPushButton("Remove")
        add.clicked.connect(self._add_folder)
        remove.clicked.connect(self._remove_folder)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        folder_box = QVBoxLayout()
        folder_box.addWidget(self.folders)
        folder_box.addLayout(row)
        form = QFormLayout()
        form.addRow("Default device", self.device)
        form.addRow("Default precision", self.precision)
        form.addRow("Default tile size", self.tile)
        form.addRow("Image budget", self.max_mp)
        form.addRow("Theme", self.theme)
        form.addRow("Checkpoint folders", folder_box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(buttons)
        self.resize(460, 380)

    def folder_list(self) -> list[str]:
        return [self.folders.item(i).text() for i in range(self.folders.count())]

    def add_folder(self, path: str) -> None:
        if path and path not in self.folder_list():
            self.folders.addItem(path)

    def _add_folder(self) -> None:
        self.add_folder(QFileDialog.getExistingDirectory(self, "Checkpoint folder"))

    def _remove_folder(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))

    def apply(self) -> None:
        s = self.settings
        s.device = self.device.currentText()
        s.precision = self.precision.currentText()
        s.max_megapixels = self.max_mp.value()
        s.tile = self.tile.value() or None
        s.theme = self.theme.currentText()
        s.checkpoint_folders = self.folder_list()
        s.sync()

    def accept(self) -> None:
        self.apply()
        super().accept()
