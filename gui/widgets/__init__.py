"""Side-panel widgets: input, models, scale/run, region."""

from .inputs import InputBox, ModelList
from .run_box import RoiBox, RunBox

__all__ = ["InputBox", "ModelList", "RunBox", "RoiBox"]
