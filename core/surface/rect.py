"""Integration on the full rectangle: Frankot-Chellappa (FFT) and DCT Poisson (Simchony).

Both take the gradient field ``(p, q) = (dw/du, dw/dv)`` (see :mod:`.geometry`), zero outside
the mask, and return ``w`` on every pixel; they are instant previews.

* **Frankot-Chellappa** (1988): least-squares projection onto integrable *periodic* fields,
  ``W = (-i w_u P - i w_v Q) / (w_u^2 + w_v^2)``. Exact (to float rounding) for band-limited
  periodic surfaces; on other maps the implied wrap-around bends the result near the borders.
* **DCT Poisson** (Simchony, Chellappa & Shao 1990): the exact least-squares solution of
  ``w[i, j+1] - w[i, j] = (p[i, j] + p[i, j+1]) / 2`` (and the same along v) over all edges of
  the rectangle, i.e. the Neumann Poisson equation, diagonalised by the DCT-II. Exact for
  quadratic surfaces (trapezoid rule), second order for smooth ones.
"""

from __future__ import annotations

import numpy as np
from scipy import fft

__all__ = ["frankot_chellappa", "dct_poisson", "edge_gradients", "dct_preconditioner"]


def edge_gradients(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoid differences between neighbours: ``gu`` (H x W-1) and ``gv`` (H-1 x W)."""
    return 0.5 * (p[:, 1:] + p[:, :-1]), 0.5 * (q[1:, :] + q[:-1, :])


def frankot_chellappa(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Frankot-Chellappa integration of ``(p, q)`` (float64 ``H x W``), mean 0."""
    h, w = p.shape
    wu = 2.0 * np.pi * np.fft.fftfreq(w)[None, :]
    wv = 2.0 * np.pi * np.fft.fftfreq(h)[:, None]
    P = fft.fft2(p)
    Q = fft.fft2(q)
    den = wu * wu + wv * wv
    den[0, 0] = 1.0
    Z = (-1j * wu * P - 1j * wv * Q) / den
    Z[0, 0] = 0.0
    return np.real(fft.ifft2(Z))


def dct_poisson(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Least-squares integration on the rectangle with free (Neumann) borders, mean 0."""
    h, w = p.shape
    gu, gv = edge_gradients(p, q)
    # rhs = D^T g: divergence of the edge gradients (backward differences, zero-padded)
    rhs = np.zeros((h, w))
    rhs[:, :-1] -= gu
    rhs[:, 1:] += gu
    rhs[:-1, :] -= gv
    rhs[1:, :] += gv
    W = fft.dctn(rhs, type=2, norm="ortho") / _neumann_eigenvalues(h, w)
    return fft.idctn(W, type=2, norm="ortho")


def _neumann_eigenvalues(h: int, w: int) -> np.ndarray:
    lam_u = 2.0 - 2.0 * np.cos(np.pi * np.arange(w) / w)
    lam_v = 2.0 - 2.0 * np.cos(np.pi * np.arange(h) / h)
    den = lam_v[:, None] + lam_u[None, :]
    den[0, 0] = np.inf                     # drop the constant mode
    return den


def dct_preconditioner(mask: np.ndarray):
    """``r -> restrict(L_rect^+ extend(r))``: the Neumann Poisson solve of the rectangle around
    ``mask`` applied to a vector of mask unknowns (zero outside), mean removed. Symmetric and
    positive semi-definite: a preconditioner for the masked graph Laplacian."""
    den = _neumann_eigenvalues(*mask.shape)
    full = np.zeros(mask.shape)

    def apply(r: np.ndarray) -> np.ndarray:
        full[mask] = r
        out = fft.idctn(fft.dctn(full, type=2, norm="ortho") / den, type=2, norm="ortho")[mask]
        return out - out.mean()

    return apply

