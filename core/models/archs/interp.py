"""Interpolation baselines (nearest, bilinear, bicubic, Lanczos-3) as models.

They have no weights and work at any scale: :meth:`Interpolation.resize` maps
``x (B, C, H, W)`` to ``(B, C, *size)`` with MATLAB-compatible kernels
(:func:`core.resize.imresize_torch`, antialiased when downscaling).
"""

from __future__ import annotations

from torch import Tensor, nn

from ..spec import ArchSpec

__all__ = ["Interpolation", "INTERP_METHODS", "SPEC"]

#: Accepted methods (``lanczos`` is an alias of ``lanczos3``).
INTERP_METHODS: tuple[str, ...] = ("nearest", "bilinear", "bicubic", "lanczos3")
_ALIASES = {"lanczos": "lanczos3", "cubic": "bicubic", "linear": "bilinear", "box": "nearest"}


class Interpolation(nn.Module):
    """A weightless arbitrary-scale "model": classical interpolation of the input."""

    arch_name = "interp"
    in_channels = 3

    def __init__(self, method: str = "bicubic"):
        super().__init__()
        m = _ALIASES.get(str(method).lower(), str(method).lower())
        if m not in INTERP_METHODS:
            known = ", ".join(INTERP_METHODS)
            raise ValueError(f"unknown interpolation {method!r} (expected one of {known})")
        self.method = m
        self.hparams = {"method": m}

    def resize(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        """``x (B, C, H, W)`` (any range, floating point) -> ``(B, C, size[0], size[1])``."""
        from ...resize import imresize_torch  # lazy: scipy (~150 ms); 'main.py models' skips it

        return imresize_torch(x, size=(int(size[0]), int(size[1])), method=self.method)

    def forward(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        return self.resize(x, size)

    def extra_repr(self) -> str:
        return f"method={self.method!r}"


SPEC = ArchSpec(
    name="interp",
    kind="interp",
    detect=lambda sd: None,
    build=lambda method="bicubic": Interpolation(method),
    description="classical interpolation (nearest, bilinear, bicubic, Lanczos-3), no weights",
)
