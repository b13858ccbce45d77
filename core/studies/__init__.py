"""Background studies (seed paper: "Investigating the Function of Image Background in Image
SR"): full vs crop, background swap, background size sweep, self-similar mosaic vs TTA, and
batch runs over folders with a resumable CSV. Qt-free Jobs returning :class:`StudyResult`."""

from .batch import BatchResult, open_table, read_rows, run_batch, study_images, summarize
from .common import StudyOptions, StudyResult, StudyRow, gallery
from .crop import DEFAULT_MARGINS, PAPER_PRESET, CropPreset, crop_study, preset_region
from .mosaic import gains, make_mosaic, mosaic_study
from .swap import RING_MODES, RING_WIDTHS, extremes, own_flips, size_study, swap_study

__all__ = [
    "StudyOptions", "StudyResult", "StudyRow", "gallery",
    "crop_study", "CropPreset", "PAPER_PRESET", "DEFAULT_MARGINS", "preset_region",
    "swap_study", "size_study", "own_flips", "extremes", "RING_WIDTHS", "RING_MODES",
    "mosaic_study", "make_mosaic", "gains",
    "run_batch", "read_rows", "summarize", "study_images", "BatchResult", "open_table",
]
