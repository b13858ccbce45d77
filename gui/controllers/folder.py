"""A folder of images in the window: run the ticked models over every image (one progress bar,
Cancel), the per-image x per-model table, its CSV/JSON export, and stepping through the
images (each opened in the window as the input, its HR attached when there is an HR folder).

The run is :func:`core.app.folder.folder_job` (the CLI ``eval``'s protocol, so the values are
``main.py eval``'s) with the window's scale, metric options (Y/RGB, shave) and run options.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from core.app.folder import FolderRequest, FolderTable, folder_images, folder_job
from core.engine.run import SROptions
from core.errors import SRWError
from core.session import Session

from ..jobs import JobPool, Notices
from .inputs import InputsController

__all__ = ["FolderController"]


class FolderController(QObject):
    """Owns the folder, the optional HR folder, the table and the job."""

    changed = Signal()          # folder, position or table changed

    def __init__(self, session: Session, notices: Notices, pool: JobPool,
                 inputs: InputsController, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.notices = notices
        self.inputs = inputs
        self.jobs = pool.handle("folder", notices, eta=True, parent=self)
        self.folder: Path | None = None
        self.hr_folder: Path | None = None
        self.files: list[Path] = []
        self.index = -1
        self.table: FolderTable | None = None
        self._cache: dict[str, tuple[tuple, dict]] = {}   # image path -> (signature, results)
        self._pending: str | None = None
        session.subscribe(self._on_session)

    # -- results cached per image while stepping -----------------------------------------------
    def _signature(self) -> tuple:
        """What a result depends on besides the image: equal signatures reuse results."""
        st = self.session.state
        return (st.reference, st.scale, st.size, tuple(st.models), st.device, st.precision,
                st.tile, str(self.hr_folder))

    def _remember(self) -> None:
        path, res = self.session.state.input_path, self.session.results
        if path and res:
            self._cache[path] = (self._signature(), dict(res))

    def _on_session(self, topic: str) -> None:
        s = self.session
        if topic == "inputs" and self._pending and s.lr is not None \
                and s.state.input_path == self._pending:
            self._pending = None
            QTimer.singleShot(0, self._restore)     # after the run controller has seen it

    def _restore(self) -> None:
        path = self.session.state.input_path
        signature, results = self._cache.get(path or "", ((), {}))
        if results and signature == self._signature() and not self.session.results:
            for key, res in results.items():
                self.session.add_result(key, res)
            self.notices.message.emit(f"{Path(path).name}: {len(results)} cached results")

    def set_folder(self, folder: str | Path, hr_folder: str | Path | None = None,
                   open_first: bool = True) -> bool:
        """Use ``folder`` (HR images to degrade, or LR images when ``hr_folder`` is given)."""
        try:
            files = folder_images(folder)
            if hr_folder is not None:
                folder_images(hr_folder)
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return False
        self.jobs.cancel()
        self.folder, self.files, self.table = Path(folder), files, None
        self.hr_folder = Path(hr_folder) if hr_folder is not None else None
        self.index = -1
        if open_first:
            self.step(1)
        self.changed.emit()
        return True

    def request(self) -> FolderRequest:
        s, st = self.session, self.session.state
        models = tuple((k, s.label(k)) for k in st.models if k in s.catalog)
        return FolderRequest(self.folder, models, st.scale, hr_folder=self.hr_folder,
                             y_channel=st.y_channel, shave=st.shave,
                             options=SROptions(device=st.device, precision=st.precision,
                                               tile=st.tile))

    def run(self) -> bool:
        """Every ticked model over every image of the folder."""
        if self.folder is None:
            self.notices.error.emit("open a folder first")
            return False
        try:
            req = self.request()
        except SRWError as exc:
            self.notices.error.emit(str(exc))
            return False
        self.table = None
        self.changed.emit()
        self.jobs.submit(folder_job(req), on_done=self._done)
        return True

    def cancel(self) -> None:
        self.jobs.cancel("Folder run cancelled")

    def _done(self, table: FolderTable) -> str:
        self.table = table
        self.changed.emit()
        return f"{len(table.images)} images x {len(table.models)} models in " \
               f"{self.jobs.elapsed():.1f} s"

    def step(self, delta: int) -> bool:
        """Open the next (``+1``) or previous (``-1``) image of the folder in the window; the
        results of an image seen before come back without a run when nothing else changed."""
        if not self.files:
            return False
        index = min(max(self.index + delta, 0), len(self.files) - 1)
        if index == self.index:
            return False
        path = self.files[index]
        self._remember()
        self._pending = str(path.resolve())
        if self.hr_folder is None:
            ok = self.inputs.open_input(path)
            if ok and self.session.state.reference == "none":
                self.inputs.set_reference("degrade")
        else:
            ok = self.inputs.open_input(path) and self.inputs.attach_hr(self.hr_folder / path.name)
        if ok:
            self.index = index
            self.changed.emit()
        return ok

    def export(self, path: str | Path) -> bool:
        """The table as CSV or JSON (by extension), with each score's provenance."""
        if self.table is None:
            self.notices.error.emit("no folder results yet: run the folder first")
            return False
        try:
            out = self.table.save(path)
        except (OSError, SRWError) as exc:
            self.notices.error.emit(f"could not write {path}: {exc}")
            return False
        self.notices.message.emit(f"Folder table saved to {out}")
        return True
