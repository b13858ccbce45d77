"""Zero-shot super-resolution: ZSSR (internal learning on the test image) and MZSR
(meta-transfer learning: an initialisation that adapts to an image's kernel in a few steps).

See :mod:`.zssr`, :mod:`.mzsr`, :mod:`.kernels` and :mod:`.apply` (loaded data).
"""

from .apply import finish, zssr_data
from .kernels import (PRESETS, check_kernel, gaussian_kernel, load_kernel, preset_kernel,
                      random_gaussian_kernel)
from .net import ZSSRNet
from .zssr import MIN_SON, ZSSRConfig, ZSSRProgress, ZSSRResult, zssr, zssr_stack

__all__ = ["ZSSRConfig", "ZSSRProgress", "ZSSRResult", "ZSSRNet", "zssr", "zssr_stack",
           "zssr_data", "finish", "MIN_SON", "PRESETS", "check_kernel", "gaussian_kernel",
           "load_kernel", "preset_kernel", "random_gaussian_kernel"]
