"""How LAM's path integral is evaluated: the blur levels where the model runs, and their weights.

LAM attributes ``A = integral over the path of grad F(gamma) * dgamma``, where ``gamma`` runs
from the input blurred with a Gaussian of sigma ``sigma0`` (1.2 LR pixels) to the input itself
(sigma 0). Every rule here is a list of :class:`PathNodes`: for node ``k`` the path image is the
input filtered with ``images[k]``, its derivative the input filtered with ``derivs[k]``, and
``A = sum_k weights[k] * grad F(path image k) * derivative k``. One node = one forward and one
backward pass of the model, so the number of nodes is the cost.

* ``riemann``: the official LAM (``fold`` = 50 equal steps in sigma, right end points, the
  derivative as the finite difference ``(K[i + 1] - K[i]) * fold``), node for node.
* ``gauss``: Gauss-Legendre in the variable ``t = exp(-1 / (2 sigma^2))``, the weight a 9x9
  Gaussian gives each of the 4 nearest neighbours (before normalising). Where the mass of the
  integrand lies decides the variable: the kernel is a delta to float precision below
  sigma ~0.17 (``t`` < 1e-7), so in sigma a seventh of the official steps land where the
  integrand is zero and the rest see a steep rise between sigma 0.2 and 0.45, where the
  measured integrand peaks (bundled EDSR x4, demo image 7: sigma 0.44, alpha 0.63; at the
  blurred end, sigma 1.2, it is 300x smaller), then a slow decay to sigma 1.2.
  In ``t`` the path is nearly a polynomial (the blurred image is ``(x + t * (4 neighbours) + t^2
  * (4 diagonals) + ...) / normaliser``), so the nodes fall where the image changes and the
  rule converges fast. ``dK/dt = K * (r^2 - <r^2>_K) / t`` (exact; at ``t -> 0`` it tends to
  the 5-point Laplacian).
* ``adaptive``: Fejér's second rule in the same ``t``, with 7, 15, 31, 63 nodes; each level
  reuses every node of the one before (only the new ones run the model), and the rule stops at
  the first level whose map (the normalised ``|sum over channels|``) has stopped changing:
  correlation with the previous level's map >= ``1 - ADAPTIVE_TOL`` and diffusion index
  within ``ADAPTIVE_DI_TOL``; or when the next level would exceed the node budget.

A ReLU network's input gradient changes by small jumps along the path (every unit that switches
on or off), and the objective's gradient magnitude turns direction where an output gradient
passes near zero, so no rule converges as fast as on a smooth integrand. Measured with the
bundled EDSR x4 against the 50-step map (README, ``python3 -m bench.lam_speed --fidelity lam``):
``gauss`` 16 keeps correlation >= 0.99 and the diffusion index within 0.06 on the 7 LAM demo
images and reaches >= 0.999 on most, but not on demo images 1 and 4 (bf16: 0.990 and 0.995;
fp32, image 1: 0.996, while the 50-step map itself is only 0.9993 from a 200-step one). The default therefore stays
the official ``riemann``; ``tests/core/test_lam_rules.py`` holds any other default to the bar
(correlation >= 0.999, diffusion index within 0.5 on all 7 demo images).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .path import FOLD, KERNEL_SIZE, SIGMA, gaussian_kernel, path_kernels

__all__ = ["RULES", "DEFAULT_RULE", "DEFAULT_STEPS", "ADAPTIVE_LEVELS", "ADAPTIVE_TOL",
           "ADAPTIVE_DI_TOL", "PathNodes", "riemann_nodes", "gauss_nodes", "fejer_nodes",
           "adaptive_levels", "rule_steps", "check_rule", "rule_text", "kernel_dt"]

RULES = ("riemann", "gauss", "adaptive")
#: The rule used when none is given: the official one, until another keeps the map (above).
DEFAULT_RULE = "riemann"
#: Nodes (model passes) per rule when ``steps`` is not given; for ``adaptive`` the budget.
DEFAULT_STEPS = {"riemann": FOLD, "gauss": 16, "adaptive": 31}
#: Fejér-2 levels of the adaptive rule (each contains the one before).
ADAPTIVE_LEVELS = (7, 15, 31, 63)
#: Stop when the map's correlation with the previous level's is at least ``1 - ADAPTIVE_TOL``
#: and the diffusion index moved at most ``ADAPTIVE_DI_TOL``.
ADAPTIVE_TOL, ADAPTIVE_DI_TOL = 2e-4, 0.1
_EPS = 1e-5          # the official kernel's epsilon: sigma + 1e-5 in the exponent


@dataclass(frozen=True)
class PathNodes:
    """Nodes of a rule: ``sigmas`` (n,), path-image kernels ``images`` (n, l, l), derivative
    kernels ``derivs`` (n, l, l, along the path towards the input), ``weights`` (n,)."""

    sigmas: np.ndarray
    images: np.ndarray
    derivs: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.sigmas)

    def subset(self, idx) -> "PathNodes":
        idx = np.asarray(idx, dtype=np.int64)
        return PathNodes(self.sigmas[idx], self.images[idx], self.derivs[idx], self.weights[idx])


def riemann_nodes(sigma: float = SIGMA, fold: int = FOLD, size: int = KERNEL_SIZE) -> PathNodes:
    """The official path: step ``i`` is ``K[i + 1]``, derivative ``(K[i+1] - K[i]) * fold``,
    weight ``1 / fold`` (the official mean over steps)."""
    k = path_kernels(sigma, fold, size)
    return PathNodes(np.linspace(sigma, 0, fold + 1)[1:], k[1:], (k[1:] - k[:-1]) * fold,
                     np.full(fold, 1.0 / fold))


def _r2(size: int) -> np.ndarray:
    ax = np.arange(-size // 2 + 1.0, size // 2 + 1.0)
    xx, yy = np.meshgrid(ax, ax)
    return xx ** 2 + yy ** 2


def kernel_dt(size: int, t: float) -> np.ndarray:
    """``dK/dt`` of the normalised ``size x size`` Gaussian whose nearest-neighbour weight
    (before normalising) is ``t`` = ``exp(-1 / (2 s^2))``, ``s`` = sigma + 1e-5."""
    r2 = _r2(size)
    if t <= 0:   # the limit: the 5-point Laplacian
        out = np.zeros_like(r2)
        out[r2 == 1] = 1.0
        out[r2 == 0] = -4.0
        return out
    s = np.sqrt(-0.5 / np.log(t))
    k = gaussian_kernel(size, s - _EPS)
    return k * (r2 - np.sum(k * r2)) / t


def _t_of(sigma: float) -> float:
    return float(np.exp(-1.0 / (2.0 * (sigma + _EPS) ** 2)))


def _nodes_in_t(sigma: float, x: np.ndarray, w: np.ndarray, size: int) -> PathNodes:
    """A rule given on [-1, 1] (nodes ``x``, weights ``w``) mapped to ``t`` in [0, t(sigma)]."""
    t_hi = _t_of(sigma)
    if t_hi < 1e-300:        # sigma ~0: the path does not move, the attribution is zero
        n = len(x)
        k = np.repeat(gaussian_kernel(size, max(sigma, 0.0))[None], n, 0)
        return PathNodes(np.full(n, sigma), k, np.zeros_like(k), np.zeros(n))
    t = (np.asarray(x, np.float64) + 1.0) * 0.5 * t_hi
    s = np.array([np.sqrt(-0.5 / np.log(v)) if v > 0 else 0.0 for v in t])
    sig = np.maximum(s - _EPS, 0.0)
    images = np.stack([gaussian_kernel(size, v) for v in sig])
    # the path runs from t_hi (blurred) to 0 (the input): its derivative is -dK/dt
    derivs = np.stack([-kernel_dt(size, v) for v in t])
    return PathNodes(sig, images, derivs, np.asarray(w, np.float64) * 0.5 * t_hi)


def gauss_nodes(sigma: float = SIGMA, n: int = 16, size: int = KERNEL_SIZE) -> PathNodes:
    """``n``-point Gauss-Legendre in ``t``."""
    x, w = np.polynomial.legendre.leggauss(int(n))
    return _nodes_in_t(sigma, x, w, size)


def _fejer2(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Fejér's second rule on [-1, 1] with ``n`` interior nodes (ascending)."""
    m = n + 1
    theta = np.arange(1, m) * np.pi / m
    j = np.arange(1, m // 2 + 1)[:, None]
    w = 4.0 / m * np.sin(theta) * np.sum(np.sin((2 * j - 1) * theta) / (2 * j - 1), axis=0)
    return -np.cos(theta), w


def fejer_nodes(sigma: float = SIGMA, n: int = 15, size: int = KERNEL_SIZE) -> PathNodes:
    """Fejér's second rule with ``n = 2^k - 1`` nodes in ``t`` (nested under doubling)."""
    x, w = _fejer2(int(n))
    return _nodes_in_t(sigma, x, w, size)


def adaptive_levels(budget: int) -> tuple[int, ...]:
    """The Fejér levels the adaptive rule may use within ``budget`` nodes (at least one)."""
    levels = tuple(n for n in ADAPTIVE_LEVELS if n <= budget)
    return levels or ADAPTIVE_LEVELS[:1]


def rule_steps(rule: str, steps: int | None, fold: int = FOLD) -> int:
    """The node count (budget for ``adaptive``) a rule uses: ``steps``, else the rule's default
    (``fold`` for ``riemann``, the official option)."""
    if steps is not None:
        return int(steps)
    return int(fold) if rule == "riemann" else DEFAULT_STEPS[rule]


def check_rule(rule: str | None, steps: int | None, fold: int = FOLD) -> tuple[str, int]:
    """``(rule, steps)`` validated (None: the defaults), or one clear :class:`InputError`."""
    r = str(rule or DEFAULT_RULE).lower()
    if r not in RULES:
        raise InputError(f"unknown LAM rule {rule!r}; use one of {', '.join(RULES)}")
    n = rule_steps(r, steps, fold)
    if n < 1:
        raise InputError(f"LAM needs at least 1 path step, got {n}")
    if n > 10_000:
        raise InputError(f"{n} LAM path steps is more than anyone needs (at most 10000)")
    if r == "adaptive" and n < ADAPTIVE_LEVELS[1]:
        raise InputError(f"the adaptive rule compares its levels of {ADAPTIVE_LEVELS[0]} and "
                         f"{ADAPTIVE_LEVELS[1]} path steps at least: give --steps >= "
                         f"{ADAPTIVE_LEVELS[1]} (got {n})")
    return r, n


def rule_text(rule: str, steps: int, budget: int | None = None) -> str:
    """How a map was integrated, for captions and provenance: ``gauss 16 steps``."""
    if rule == "adaptive" and budget is not None:
        return f"adaptive {steps} of {budget} steps"
    return f"{rule} {steps} steps"
