"""Bilateral normal integration (BiNI, Cao et al. ECCV 2022), coarse to fine.

Same energy and reweighting as the reference solver (:func:`.sparse.bilateral`, the published
algorithm): one-sided equations ``a_i (w_{i+1} - w_i) = b_i`` and ``a_i (w_i - w_{i-1}) = b_i``
in each direction, weighted by ``sigmoid(k (d_-^2 - d_+^2))`` and ``1 - ...``, iteratively
reweighted least squares until the energy changes by less than ``tol``. What differs is how
each least-squares problem is solved:

* **coarse to fine**: the equations are averaged 2 x 2 (``a / 2``, ``b``: the same slopes per
  coarse pixel) down to about :data:`COARSEST` mask pixels; BiNI runs there from zero, and each
  finer level starts from the coarser solution upsampled (masked bilinear) with the weights it
  implies. The fine levels then need a few reweightings of a few CG steps each: the low
  frequencies, which Jacobi-CG is slow to find on a large grid, are already right.
* **a stencil, not a sparse matrix**: the normal equations are a 5-point weighted Laplacian
  whose values are rewritten in place each iteration (:mod:`.stencil`, numba-compiled);
* **preconditioned CG** with Jacobi or IC(0) (symmetric, ``L L^T``), warm-started;
* **CUDA** when torch sees one and the grid is large: the same Jacobi-CG with torch tensors.

A Job: yields :class:`~core.jobs.Progress` between CG chunks (a cancel is honoured within about
a tenth of a second) and returns ``(w, iterations at the finest level)``.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from ..jobs import Job, Progress
from . import stencil
from .geometry import Equations

__all__ = ["bilateral", "COARSEST", "PRECONDITIONERS", "pyramid"]

#: Coarsening stops when a level has at most this many mask pixels.
COARSEST = 12_000
#: Maps with at most this many mask pixels are solved at full size only (``levels=None``): at
#: camera sizes the reweighting's answer depends on its path (DiLiGenT's harvest lands 8 mm
#: away when started from a coarse solution), so they follow the reference path exactly.
SINGLE_LEVEL_MAX = 250_000
#: Preconditioner names -> stencil kind; ``auto`` is Jacobi: at full size it is the reference
#: solver's CG (answers kept to the last digit), and with the kernels run on every core it is
#: also the faster one coarse to fine (IC(0)'s triangular sweeps run on one core): on the x4
#: cat, Jacobi is within 0.045 mm of the converged reference depth, IC(0) 0.052 mm.
PRECONDITIONERS = {"auto": 0, "jacobi": 0, "ic": 1}
#: CG steps per compiled chunk are sized so that a chunk is about this many cell updates.
_CHUNK_CELLS = 4e7
#: Grids of at least this many cells use CUDA when torch has it.
_CUDA_MIN_CELLS = 1 << 20


class _Level:
    """One resolution: padded ``(H+2) x (W+2)`` arrays, the mask and the equations."""

    def __init__(self, m: np.ndarray, au, bu, av, bv):
        self.m = m
        self.au, self.bu, self.av, self.bv = au, bu, av, bv
        self.count = int(m.sum())

    @property
    def shape(self) -> tuple[int, int]:
        return self.m.shape[0] - 2, self.m.shape[1] - 2


def _pad(a: np.ndarray, value=0.0) -> np.ndarray:
    return np.pad(a, 1, constant_values=value)


def _coarser(lv: _Level) -> _Level:
    """2 x 2 averages of the equations over the mask pixels of each block (a coarse pixel is in
    the mask when any of its four is): ``a`` halves (a coarse pixel is two fine ones wide), ``b``
    stays, so the slopes ``b / a`` double and the residual scale (and BiNI's ``k``) holds."""
    h, w = lv.shape
    hh, ww = (h + 1) // 2, (w + 1) // 2
    m = np.zeros((2 * hh, 2 * ww))
    m[:h, :w] = lv.m[1:-1, 1:-1]
    cnt = m.reshape(hh, 2, ww, 2).sum(axis=(1, 3))
    mc = cnt > 0
    safe = np.maximum(cnt, 1.0)

    def avg(a: np.ndarray, factor: float) -> np.ndarray:
        full = np.zeros((2 * hh, 2 * ww))
        full[:h, :w] = a[1:-1, 1:-1]
        return _pad(factor * (full * m).reshape(hh, 2, ww, 2).sum(axis=(1, 3)) / safe)

    return _Level(_pad(mc, False), avg(lv.au, 0.5), avg(lv.bu, 1.0), avg(lv.av, 0.5),
                  avg(lv.bv, 1.0))


def pyramid(eq: Equations, mask: np.ndarray, coarsest: int = COARSEST
            ) -> tuple[list[_Level], tuple[slice, slice]]:
    """Levels from fine to coarse over the mask's bounding box, and that box."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    box = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
    m = mask[box]

    def crop(a: np.ndarray) -> np.ndarray:
        return _pad(np.where(m, np.asarray(a, dtype=np.float64)[box], 0.0))

    levels = [_Level(_pad(m, False), crop(eq.au), crop(eq.bu), crop(eq.av), crop(eq.bv))]
    while levels[-1].count > coarsest and min(levels[-1].shape) >= 8:
        levels.append(_coarser(levels[-1]))
    return levels, box


def _gpu_driver_present() -> bool:
    """False when this Linux machine has no GPU kernel driver (NVIDIA's ``/proc/driver/nvidia``
    or ROCm's ``/dev/kfd``): torch could not see a GPU, so it is not imported to ask (1.5 s of
    a 2-core machine's ``surface`` run). Elsewhere, or with torch already loaded: ask it."""
    if "torch" in sys.modules or not sys.platform.startswith("linux"):
        return True
    return os.path.exists("/proc/driver/nvidia") or os.path.exists("/dev/kfd")


def _use_cuda(cells: int, device: str | None) -> bool:
    if device == "cpu":
        return False
    if device == "cuda":
        return True
    if cells < _CUDA_MIN_CELLS or not _gpu_driver_present():
        return False
    try:
        # lazy: torch is heavy; only large grids ask whether CUDA is there
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return bool(torch.cuda.is_available())


def bilateral(eq: Equations, mask: np.ndarray, *, k: float = 2.0, max_iter: int = 150,
              tol: float = 1e-4, cg_tol: float = 1e-3, cg_max_iter: int = 5000,
              levels: int | None = None, precond: str = "auto",
              device: str | None = None) -> Job[tuple[np.ndarray, int]]:
    """Bilateral normal integration, coarse to fine; returns ``(w, iterations)`` (``w``: H x W,
    NaN outside the mask; iterations: reweightings at full size).

    Args:
        eq, mask, k, max_iter, tol, cg_tol, cg_max_iter: as :func:`.sparse.bilateral`
            (``max_iter`` and ``tol`` apply to every level).
        levels: how many resolutions (``1``: full size only, the reference algorithm with a
            faster solve); default: 1 up to :data:`SINGLE_LEVEL_MAX` mask pixels, else halve
            until about :data:`COARSEST`.
        precond: ``auto``, ``jacobi`` or ``ic`` (incomplete Cholesky) (:data:`PRECONDITIONERS`).
        device: ``cpu``, ``cuda`` or ``None`` (CUDA for large grids when torch has it).
    """
    if precond not in PRECONDITIONERS:
        raise ValueError(f"precond must be one of {', '.join(PRECONDITIONERS)}, got {precond!r}")
    yield Progress(0, 1000, "building the levels")
    pyr, box = pyramid(eq, mask)
    if levels is None and pyr[0].count <= SINGLE_LEVEL_MAX:
        levels = 1
    if levels is not None:
        pyr = pyr[:max(1, int(levels))]
    work = [lv.count for lv in pyr]
    total_work = float(sum(work))
    done = 0.0
    z = None
    it = 0
    for depth in range(len(pyr) - 1, -1, -1):
        lv = pyr[depth]
        span = 1000.0 * work[depth] / total_work
        start = 1000.0 * done / total_work
        h, w = lv.shape
        name = f"{w}x{h}" + (f" (level {depth + 1}/{len(pyr)})" if len(pyr) > 1 else "")
        kind = PRECONDITIONERS[precond]
        z = (np.zeros(lv.m.shape) if z is None else
             _upsampled(z, pyr[depth + 1].m, lv.m))
        solver = _solve_level(lv, z, k=k, max_iter=max_iter,
                              tol=tol, cg_tol=cg_tol,
                              cg_max_iter=cg_max_iter, precond=kind,
                              cuda=_use_cuda(lv.m.size, device), cold=depth == len(pyr) - 1)
        while True:
            try:
                frac, msg = next(solver)
            except StopIteration as stop:
                z, it = stop.value
                break
            yield Progress(int(start + min(frac, 0.99) * span), 1000, f"{name}: {msg}")
        done += work[depth]
    out = np.full(mask.shape, np.nan)
    inner = z[1:-1, 1:-1]
    region = out[box]
    region[mask[box]] = inner[mask[box]]
    yield Progress(1000, 1000, f"done after {it} iterations")
    return out, it


def _upsampled(zc: np.ndarray, mc: np.ndarray, mf: np.ndarray) -> np.ndarray:
    out = np.zeros(mf.shape)
    stencil.upsample(zc, mc, mf, out)
    return out


def _solve_level(lv: _Level, z: np.ndarray, *, k: float, max_iter: int, tol: float,
                 cg_tol: float, cg_max_iter: int, precond: int, cuda: bool, cold: bool):
    """IRLS at one level from ``z``; yields ``(fraction, message)``, returns ``(z, its)``."""
    shape = lv.m.shape
    wu = np.full(shape, 0.5)
    wv = np.full(shape, 0.5)
    m = lv.m
    if cold:   # the reference's start: z = 0, weights 1/2
        e = stencil.reweight(m, lv.au, lv.bu, lv.av, lv.bv, z, float(k), wu, wv, False)
    else:      # the weights the upsampled depth implies
        e = stencil.reweight(m, lv.au, lv.bu, lv.av, lv.bv, z, float(k), wu, wv, True)
    ce, cs, diag, rhs = (np.zeros(shape) for _ in range(4))
    inv, le, ls = np.ones(shape), np.zeros(shape), np.zeros(shape)
    r, zv, p, q = (np.zeros(shape) for _ in range(4))
    chunk = max(5, int(_CHUNK_CELLS / z.size))
    it = 0
    for it in range(1, int(max_iter) + 1):
        stencil.assemble(m, lv.au, lv.bu, lv.av, lv.bv, wu, wv, ce, cs, diag, rhs)
        if cuda:
            z = yield from _cg_cuda(ce, cs, diag, rhs, z, cg_tol, cg_max_iter, it, max_iter)
        else:
            if precond == 1:
                stencil.ic0(ce, cs, diag, inv, le, ls)
            rz, rr = stencil.pcg_start(precond, ce, cs, diag, inv, le, ls, rhs, z, r, zv, p, q)
            stop2 = cg_tol * cg_tol * rr
            steps = 0
            while steps < cg_max_iter:
                n, rz, fin = stencil.pcg_steps(precond, ce, cs, diag, inv, le, ls, z, r, zv, p,
                                               q, rz, stop2, min(chunk, cg_max_iter - steps))
                steps += n
                if fin:
                    break
                yield (it - 1) / max_iter, f"iteration {it}: conjugate gradients, step {steps}"
        e_old = e
        cg_steps = steps if not cuda else 0
        e = stencil.reweight(m, lv.au, lv.bu, lv.av, lv.bv, z, float(k), wu, wv, True)
        yield it / max_iter, f"iteration {it}: energy {e:.4g} ({cg_steps} CG steps)"
        if abs(e - e_old) / max(e_old, 1e-300) < tol:
            break
    return z, it


def _cg_cuda(ce, cs, diag, rhs, z, cg_tol, cg_max_iter, it, max_iter):
    """Jacobi-CG of the stencil with torch on CUDA (float64); yields progress like the CPU."""
    # lazy: torch only when a CUDA device will be used
    import torch

    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    z_new = yield from cg_torch(ce, cs, diag, rhs, z, cg_tol, cg_max_iter, dev,
                                lambda steps: ((it - 1) / max_iter,
                                               f"iteration {it}: conjugate gradients (CUDA), "
                                               f"step {steps}"))
    return z_new


def cg_torch(ce, cs, diag, rhs, z, cg_tol, cg_max_iter, device, message, every: int = 50):
    """Jacobi-preconditioned CG of the padded stencil with torch tensors on ``device``; a
    generator yielding ``message(steps)`` every ``every`` steps, returning the new ``z``."""
    # lazy: torch only for this path
    import torch

    t = {k: torch.as_tensor(v, device=device) for k, v in
         dict(ce=ce, cs=cs, diag=diag, rhs=rhs, z=z).items()}
    ce_t, cs_t, d_t, b_t, x = t["ce"], t["cs"], t["diag"], t["rhs"], t["z"].clone()

    def mv(v):
        y = torch.zeros_like(v)
        c = v[1:-1, 1:-1]
        y[1:-1, 1:-1] = (d_t[1:-1, 1:-1] * c
                         - ce_t[1:-1, 1:-1] * v[1:-1, 2:] - ce_t[1:-1, :-2] * v[1:-1, :-2]
                         - cs_t[1:-1, 1:-1] * v[2:, 1:-1] - cs_t[:-2, 1:-1] * v[:-2, 1:-1])
        return y

    inv = 1.0 / d_t
    r = b_t - mv(x)
    zz = inv * r
    p = zz.clone()
    rz = torch.sum(r * zz)
    stop2 = cg_tol * cg_tol * torch.sum(b_t * b_t)
    for steps in range(int(cg_max_iter)):
        if bool(torch.sum(r * r) <= stop2) or bool(rz <= 0):
            break
        if steps and steps % every == 0:
            yield message(steps)
        q = mv(p)
        alpha = rz / torch.sum(p * q)
        x += alpha * p
        r -= alpha * q
        zz = inv * r
        rz_new = torch.sum(r * zz)
        p = zz + (rz_new / rz) * p
        rz = rz_new
    return x.cpu().numpy()
