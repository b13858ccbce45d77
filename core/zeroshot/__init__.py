"""Zero-shot super-resolution: ZSSR (internal learning on the test image) and MZSR
(meta-transfer learning: an initialisation that adapts to an image's kernel in a few steps).

See :mod:`.internal` (ZSSR), :mod:`.mzsr`, :mod:`.kernels`, :mod:`.presets` and :mod:`.apply`
(loaded data).
The names below load on first access, so ``core.zeroshot.presets`` (the CLI's help) does not
import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

if TYPE_CHECKING:
    from .apply import finish, zssr_data
    from .kernels import (check_kernel, gaussian_kernel, load_kernel, preset_kernel,
                          random_gaussian_kernel)
    from .net import ZSSRNet
    from .presets import PRESETS
    from .internal import MIN_SON, ZSSRConfig, ZSSRProgress, ZSSRResult, zssr, zssr_stack

# lazy: torch-heavy names, loaded on first access (keeps CLI start-up (--help) torch-free)
_HOME = {
    "finish": "apply", "zssr_data": "apply", "PRESETS": "presets",
    "check_kernel": "kernels", "gaussian_kernel": "kernels", "load_kernel": "kernels",
    "preset_kernel": "kernels", "random_gaussian_kernel": "kernels", "ZSSRNet": "net",
    "MIN_SON": "internal", "ZSSRConfig": "internal", "ZSSRProgress": "internal",
    "ZSSRResult": "internal", "zssr": "internal", "zssr_stack": "internal",
}

__all__ = ["ZSSRConfig", "ZSSRProgress", "ZSSRResult", "ZSSRNet", "zssr", "zssr_stack",
           "zssr_data", "finish", "MIN_SON", "PRESETS", "check_kernel", "gaussian_kernel",
           "load_kernel", "preset_kernel", "random_gaussian_kernel"]


__getattr__, __dir__ = lazy_names(__name__, _HOME, __all__)
