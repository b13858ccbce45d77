"""The named blur kernels (pure data, no imports beyond ``math``: the CLI lists them in its help
without loading torch). :func:`core.zeroshot.kernels.preset_kernel` builds the kernels."""

from __future__ import annotations

import math

__all__ = ["PRESETS"]

#: Named kernels as (sigma_x, sigma_y, theta), sigmas in HR pixels: ``gauss<sigma>`` isotropic
#: and one anisotropic (``aniso``). ``mzsr-g<lambda>`` and ``mzsr-ani`` follow the MZSR paper's
#: test kernels g^d_0.2, g^d_2.0 and g^d_ani, whose lambdas are covariance *eigenvalues*
#: (variances), so sigma = sqrt(lambda): g^d_2.0 is sigma 1.41, not 2.0 (with it, bicubic
#: interpolation scores 28.75 dB on Set5 x2, the paper's 28.7). ``mzsr-ani``: lambdas 4.0 and
#: 1.0 at theta = -0.5 rad (the angle is ours; the paper's figure is not on this machine).
PRESETS: dict[str, tuple[float, float, float]] = {
    "gauss0.2": (0.2, 0.2, 0.0),
    "gauss1.0": (1.0, 1.0, 0.0),
    "gauss1.3": (1.3, 1.3, 0.0),
    "gauss2.0": (2.0, 2.0, 0.0),
    "aniso": (4.0, 1.0, math.pi / 4),
    "mzsr-g0.2": (math.sqrt(0.2), math.sqrt(0.2), 0.0),
    "mzsr-g2.0": (math.sqrt(2.0), math.sqrt(2.0), 0.0),
    "mzsr-ani": (2.0, 1.0, -0.5),
}
