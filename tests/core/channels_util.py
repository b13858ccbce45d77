"""Random channel data shared by the channel tests (one generator, so the draws follow on
from one module to the next as they did when the tests were one module)."""

from __future__ import annotations

import numpy as np

RNG = np.random.default_rng(7)


def _complex(shape, dtype=np.complex64, spread=True):
    z = RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
    if spread:  # channels differ in range by orders of magnitude, as measured data does
        z = z * np.logspace(-3, 3, shape[-1])
    return z.astype(dtype)
