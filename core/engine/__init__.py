"""Running models: device/precision policy, tiled fixed-scale inference, block-wise
arbitrary-scale queries. Every run is a :data:`core.jobs.Job`."""

from .device import PRECISIONS, DEVICES, pick_device, pick_dtype, placed
from .run import SROptions, SRResult, model_kind, native_scale, output_size, super_resolve

__all__ = [
    "PRECISIONS", "DEVICES", "pick_device", "pick_dtype", "placed",
    "SROptions", "SRResult", "model_kind", "native_scale", "output_size", "super_resolve",
]
