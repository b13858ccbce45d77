"""Height / depth from normals: one entry point, :func:`integrate`, for every method.

=========  ==============================================  ===========================
method     what                                            use
=========  ==============================================  ===========================
``fc``     Frankot-Chellappa (FFT, periodic rectangle)     instant preview
``dct``    DCT Poisson, Neumann rectangle (Simchony)       instant preview
``lsq``    masked least squares, free boundary (sparse)    default: ~0.2 s at 512 px
``bini``   bilateral normal integration (IRLS + CG)        accurate, keeps depth jumps
           (:mod:`.bini`: compiled stencil CG; coarse to fine above 250k pixels)
=========  ==============================================  ===========================

Orthographic (no ``K``): heights in units of ``step`` per pixel. Perspective (``K`` given, 3 x 3
OpenCV intrinsics of this normal map's pixel grid): log-depth is integrated and the depth is
known up to scale (see :class:`~core.surface.geometry.Surface`). The rectangle methods treat
pixels outside the mask as flat (zero gradient) and report values only inside the mask.

Accuracy on DiLiGenT (9 objects, perspective with ``K.txt``, mean absolute depth error in mm
after scaling by median(gt / estimate) inside the mask, the BiNI protocol), measured with
``python -m bench.normal_integration`` on a shared 2-core machine (mean seconds per object,
512 x 612 maps; the busier the machine, the slower, the errors do not change; the bini row:
``--methods bini,bini-reference --peer PEER`` in one run, published BiNI: 1.504 mm):

=========  ==========  =========  ===============================================
method     MADE (mm)   seconds    note
=========  ==========  =========  ===============================================
``bini``   1.509       1.75       reference solver 3.07 s, official BiNI 2.96 s (1.503 mm)
``lsq``    3.128       0.21       conjugate gradients with a DCT preconditioner
``dct``    5.465       0.03
``fc``     5.601       0.04       wrap-around error on non-periodic maps
=========  ==========  =========  ===============================================
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import InputError
from ..io.normals import load_intrinsics
from ..jobs import Job, Progress, run_sync
from ..normals.codec import NormalMap, check_mask, normalize
from .geometry import Surface, check_depth_scale, check_step, equations, finish
from .rect import dct_poisson, frankot_chellappa
from .bini import PRECONDITIONERS
from .bini import bilateral as bilateral_multilevel
from .sparse import bilateral, masked_lsq

__all__ = ["METHODS", "DEFAULT_METHOD", "integrate", "integrate_sync", "made"]

#: Method names and one-line descriptions (in menu order).
METHODS: dict[str, str] = {
    "lsq": "masked least squares (default, free boundary)",
    "bini": "bilateral normal integration (accurate, keeps depth jumps)",
    "dct": "DCT Poisson on the rectangle (instant preview)",
    "fc": "Frankot-Chellappa FFT on the rectangle (instant preview)",
}
DEFAULT_METHOD = "lsq"
#: ``bini`` solvers: ``multilevel`` (default: coarse to fine, :mod:`.bini`) and ``reference``
#: (the published algorithm at full size with a sparse matrix, :func:`.sparse.bilateral`).
BINI_SOLVERS = ("multilevel", "reference")

def _inputs(normals: NormalMap | np.ndarray,
            mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(normals, NormalMap):
        n, m = normals.normals, normals.mask
        if mask is not None:
            m = m & check_mask(mask, m.shape)
        return n.astype(np.float64), m
    a = np.asarray(normals, dtype=np.float64)
    if a.ndim != 3 or a.shape[2] != 3:
        raise InputError(f"normals must be H x W x 3, got shape {a.shape}")
    n, ok = normalize(a)
    m = ok & check_mask(mask, ok.shape)
    return n.astype(np.float64), m

def integrate(normals: NormalMap | np.ndarray, mask: np.ndarray | None = None, *,
              method: str = DEFAULT_METHOD, K: np.ndarray | None = None, step: float = 1.0,
              depth_scale: float = 1.0, nz_floor: float = 0.05, **options) -> Job[Surface]:
    """Integrate a normal map into a :class:`Surface` (a Job: yields progress, cancellable).

    Args:
        normals: a :class:`NormalMap` or canonical-frame ``H x W x 3`` vectors (x right, y up,
            z towards the camera; renormalised, zero vectors masked).
        mask: optional ``H x W`` mask (intersected with the map's own).
        method: one of :data:`METHODS`.
        K: 3 x 3 camera intrinsics for a perspective camera (``None``: orthographic).
        step: orthographic pixel size (the unit of the heights).
        depth_scale: perspective: the median depth given to the result.
        nz_floor: the smallest grazing factor for gradient methods (``fc``, ``dct``, ``lsq``):
            slopes are capped at about ``1 / nz_floor``.
        **options: method options (``bini``: ``k``, ``max_iter``, ``tol``, ``cg_tol``,
            ``cg_max_iter``, ``solver`` (:data:`BINI_SOLVERS`), and for the multilevel solver
            ``levels``, ``precond`` (``ic`` or ``jacobi``), ``device``).

    Raises:
        InputError: unknown method, bad options, an empty mask, a bad ``K``.
    """
    if method not in METHODS:
        raise InputError(f"unknown integration method {method!r}; expected one of "
                         f"{', '.join(METHODS)}")
    if not (0.0 < float(nz_floor) < 1.0):
        raise InputError(f"nz_floor must be between 0 and 1, got {nz_floor!r}")
    check_step(step)                 # both checked before any work: NaN, inf, 0 and < 0 refused
    check_depth_scale(depth_scale)
    n, m = _inputs(normals, mask)
    if not m.any():
        raise InputError("the mask is empty: there is no normal to integrate")
    k = None if K is None else load_intrinsics(np.asarray(K))
    if method != "bini" and options:
        raise InputError(f"method {method!r} takes no options (got {', '.join(options)})")
    t0 = time.perf_counter()
    eq = equations(n, k, step)
    iterations = 0
    if method in ("fc", "dct"):
        yield Progress(0, 1, f"{method}: solving on the {m.shape[1]}x{m.shape[0]} rectangle")
        p, q = eq.gradients(nz_floor)
        p, q = np.where(m, p, 0.0), np.where(m, q, 0.0)
        w = (frankot_chellappa if method == "fc" else dct_poisson)(p, q)
        yield Progress(1, 1, "done")
    elif method == "lsq":
        w, iterations = yield from masked_lsq(eq, m, nz_floor)
    else:
        allowed = {"k", "max_iter", "tol", "cg_tol", "cg_max_iter", "solver", "levels",
                   "precond", "device"}
        bad = set(options) - allowed
        if bad:
            raise InputError(f"unknown bini option(s) {', '.join(sorted(bad))}; "
                             f"expected {', '.join(sorted(allowed))}")
        solver = options.pop("solver", "multilevel")
        if solver not in BINI_SOLVERS:
            raise InputError(f"unknown bini solver {solver!r}; expected one of "
                             f"{', '.join(BINI_SOLVERS)}")
        if solver == "reference" and set(options) & {"levels", "precond", "device"}:
            raise InputError("the reference bini solver takes no levels, precond or device")
        if options.get("precond", "auto") not in PRECONDITIONERS:
            raise InputError(f"unknown bini preconditioner {options['precond']!r}; expected "
                             f"one of {', '.join(PRECONDITIONERS)}")
        if options.get("device") not in (None, "cpu", "cuda"):
            raise InputError(f"bini device must be cpu or cuda, got {options['device']!r}")
        run = bilateral if solver == "reference" else bilateral_multilevel
        w, iterations = yield from run(eq, m, **options)
    return finish(w, m, K=k, step=step, method=method, seconds=time.perf_counter() - t0,
                  iterations=iterations, depth_scale=depth_scale,
                  per_component=method not in ("fc", "dct"))

def integrate_sync(normals: NormalMap | np.ndarray, mask: np.ndarray | None = None,
                   **kwargs) -> Surface:
    """:func:`integrate` run to the end (for scripts and tests)."""
    return run_sync(integrate(normals, mask, **kwargs))

def made(surface: Surface, depth_gt: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean absolute depth error after median scaling (the BiNI / DiLiGenT protocol).

    The estimated depth is scaled by ``median(gt / estimate)`` inside the mask and compared
    with ``depth_gt`` there; the unit is that of ``depth_gt`` (mm for DiLiGenT).
    """
    m = surface.mask if mask is None else (surface.mask & check_mask(mask, surface.mask.shape))
    gt = np.asarray(depth_gt, dtype=np.float64)
    if gt.shape != m.shape:
        raise InputError(f"ground-truth depth {gt.shape} and surface {m.shape} differ in size")
    est = surface.depth
    ok = m & np.isfinite(gt) & np.isfinite(est) & (est != 0)
    if not ok.any():
        raise InputError("no pixel has both an estimated and a ground-truth depth")
    s = np.median(gt[ok] / est[ok])
    return float(np.mean(np.abs(s * est[ok] - gt[ok])))
