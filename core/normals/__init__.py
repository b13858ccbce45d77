"""Normal maps: conventions and encoding, shape/detail split and exact recombination, angular
error metrics, and super-resolution of normal maps (split method and naive baseline).

Frame everywhere: x right, y up, z towards the viewer (DiLiGenT / OpenGL); see
:mod:`core.normals.codec`. File loading and saving live in :mod:`core.io.normals`.
"""

from .codec import (
    MAX_NORM,
    MIN_NORM,
    Convention,
    NormalMap,
    check_mask,
    decode,
    encode,
    from_vectors,
    normalize,
)
from .metrics import THRESHOLDS, AngularErrorStats, angular_error_map, angular_error_stats
from .split import Split, lowpass, recombine, rotate_from_z, rotate_to_z, split
from .sr import (
    METHODS,
    NormalSRResult,
    downsample_normals,
    fill_masked,
    resize_mask,
    super_resolve_normals,
)

__all__ = [
    "Convention", "NormalMap", "MIN_NORM", "MAX_NORM", "decode", "encode", "normalize",
    "from_vectors", "check_mask",
    "Split", "split", "recombine", "lowpass", "rotate_from_z", "rotate_to_z",
    "angular_error_map", "angular_error_stats", "AngularErrorStats", "THRESHOLDS",
    "super_resolve_normals", "NormalSRResult", "fill_masked", "downsample_normals",
    "resize_mask", "METHODS",
]
