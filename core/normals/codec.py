"""Normal maps as unit vectors: conventions, decoding from pixels, encoding back, validity.

Canonical frame (used by everything in :mod:`core.normals` and :mod:`core.surface`):
x to the right of the image, y *up*, z towards the viewer/camera. DiLiGenT and OpenGL-style
tangent-space maps are stored in this frame; DirectX-style maps store y *down* (the green
channel flipped) and are converted on decoding and converted back on encoding.

Encoding: an image value ``v`` in [0, 1] holds ``n = 2 v - 1`` (8/16-bit PNG, 8-bit JPEG,
float EXR/TIFF/.npy that hold encoded values). Float files may instead hold the signed
components directly ("signed" encoding); ``encoding="auto"`` picks the interpretation whose
vectors are closer to unit length.

Validity: a pixel is valid when it is inside the mask (if any), finite, and its decoded vector
has a plausible length, ``MIN_NORM <= |n| <= MAX_NORM``: this masks "zero" normals (an 8-bit
grey 128/255 decodes to length ~0.007) and the black or white backgrounds many normal maps use
(length sqrt(3)). Valid vectors are renormalised to unit length; invalid pixels hold (0, 0, 0).
Nothing is ever divided by a zero length.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from ..errors import InputError, ShapeError

__all__ = [
    "Convention", "NormalMap", "MIN_NORM", "MAX_NORM", "decode", "encode", "normalize",
    "from_vectors", "check_mask", "looks_like_normals",
]

#: Decoded vectors shorter than this are treated as "no normal" (masked out).
MIN_NORM = 0.5
#: ... and longer than this (white / black backgrounds decode to length sqrt(3)).
MAX_NORM = 1.5
#: Share of non-unit vectors above which a map is reported as probably not a normal map.
_NOT_NORMALS_SHARE = 0.25
_UNIT_TOL = 0.2


#: A map is detected as normals when at least this share of its pixels is foreground (decoded
#: length in [MIN_NORM, MAX_NORM]) ...
DETECT_MIN_FOREGROUND = 0.02
#: ... and this share of the foreground is unit length within DETECT_UNIT_TOL. Measured on the
#: shared data: DiLiGenT and texture normal maps 0.955-1.0, Set14 / LAM photos 0.05-0.44.
DETECT_MIN_UNIT = 0.9
DETECT_UNIT_TOL = 0.1


def looks_like_normals(pixels: np.ndarray) -> bool:
    """True when a 3-channel image in [0, 1] holds encoded unit normals (``n = 2v - 1``).

    The foreground (vectors neither near zero, a flat grey, nor a black/white background of
    length ~sqrt(3)) must cover :data:`DETECT_MIN_FOREGROUND` of the pixels, and nearly all of
    it must be unit length: photos decode to vectors of every length."""
    px = np.asarray(pixels)
    if px.ndim != 3 or px.shape[2] < 3 or px.shape[0] * px.shape[1] < 64:
        return False
    v = px[..., :3].astype(np.float32) * 2.0 - 1.0
    norm = np.sqrt((v * v).sum(axis=2))
    fg = np.isfinite(norm) & (norm >= MIN_NORM) & (norm <= MAX_NORM)
    n_fg = int(fg.sum())
    if n_fg < max(64, DETECT_MIN_FOREGROUND * norm.size):
        return False
    unit = np.abs(norm[fg] - 1.0) < DETECT_UNIT_TOL
    return float(unit.mean()) >= DETECT_MIN_UNIT


@dataclass(frozen=True)
class Convention:
    """How a file stores normals.

    Attributes:
        y_up: True for OpenGL / DiLiGenT (green = up), False for DirectX (green = down).
        space: ``"tangent"`` (z >= 0 expected everywhere) or ``"camera"`` (camera/object
            space: x right, y up, z towards the camera; back-facing z < 0 is possible).
        encoding: ``"unit"`` (v in [0, 1], n = 2v - 1), ``"signed"`` (the file holds n), or
            ``"auto"`` (integer files: unit; float files: whichever gives unit-length vectors).
    """

    y_up: bool = True
    space: Literal["tangent", "camera"] = "camera"
    encoding: Literal["auto", "unit", "signed"] = "auto"

    def __post_init__(self) -> None:
        if self.space not in ("tangent", "camera"):
            raise InputError(f"normal-map space must be 'tangent' or 'camera', got {self.space!r}")
        if self.encoding not in ("auto", "unit", "signed"):
            raise InputError(
                f"normal encoding must be 'auto', 'unit' or 'signed', got {self.encoding!r}")

    def as_meta(self) -> dict:
        """A plain dict to remember the convention (e.g. in ``ImageData.meta``)."""
        return {"y_up": self.y_up, "space": self.space, "encoding": self.encoding}

    @staticmethod
    def from_meta(meta: dict | None) -> "Convention":
        d = dict(meta or {})
        return Convention(bool(d.get("y_up", True)), d.get("space", "camera"),
                          d.get("encoding", "auto"))


@dataclass(frozen=True, eq=False)
class NormalMap:
    """Unit normals in the canonical frame (x right, y up, z towards the viewer).

    Attributes:
        normals: float32 ``H x W x 3``; unit length where ``mask`` is true, 0 elsewhere.
        mask: bool ``H x W``, the pixels that hold a normal.
        convention: how the source stored them (used again when saving).
        warnings: readable notes about the input (NaNs masked, non-unit vectors, ...).
        meta: provenance (``source`` path, ``bit_depth`` of the file), kept by copies.
    """

    normals: np.ndarray
    mask: np.ndarray
    convention: Convention = field(default_factory=Convention)
    warnings: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        n, m = self.normals, self.mask
        if n.ndim != 3 or n.shape[2] != 3:
            raise ShapeError(f"normals must be H x W x 3, got shape {n.shape}")
        if m.shape != n.shape[:2]:
            raise ShapeError(f"mask {m.shape} does not match normals {n.shape[:2]}")

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.mask.shape[0]), int(self.mask.shape[1])

    def with_normals(self, normals: np.ndarray, mask: np.ndarray | None = None) -> "NormalMap":
        """A copy holding other vectors (renormalised, zero where masked out)."""
        m = self.mask if mask is None else mask
        n, m = normalize(normals, m)
        return replace(self, normals=n, mask=m, warnings=())


def check_mask(mask: np.ndarray | None, shape: tuple[int, int], what: str = "mask") -> np.ndarray:
    """``mask`` as bool ``H x W`` (nonzero = inside), or all true when ``None``.

    A ``H x W x C`` mask uses its first channel; values above half the maximum count as inside.
    Raises :class:`ShapeError` (a readable message) when the size differs from ``shape``.
    """
    if mask is None:
        return np.ones(shape, dtype=bool)
    m = np.asarray(mask)
    if m.ndim == 3:
        m = m[:, :, 0]
    if m.shape != tuple(shape):
        raise ShapeError(
            f"the {what} is {m.shape[1] if m.ndim > 1 else '?'} x {m.shape[0]} but the normal map "
            f"is {shape[1]} x {shape[0]} (width x height); use a mask of the same size")
    if m.dtype == bool:
        return m.copy()
    m = np.nan_to_num(m.astype(np.float64), nan=0.0)
    top = float(m.max()) if m.size else 0.0
    return m > (top / 2.0 if top > 0 else 0.5)


def normalize(vectors: np.ndarray, mask: np.ndarray | None = None,
              min_norm: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Renormalise ``H x W x 3`` vectors; returns ``(float32 unit vectors, valid mask)``.

    Vectors that are non-finite, shorter than ``min_norm``, or outside ``mask`` become (0, 0, 0)
    and are false in the returned mask. Computed in float64.
    """
    v = np.asarray(vectors, dtype=np.float64)
    finite = np.isfinite(v).all(axis=2)
    v = np.where(finite[..., None], v, 0.0)
    norm = np.sqrt((v * v).sum(axis=2))
    ok = finite & (norm >= min_norm)
    if mask is not None:
        ok &= np.asarray(mask, dtype=bool)
    safe = np.where(ok, norm, 1.0)
    out = np.where(ok[..., None], v / safe[..., None], 0.0)
    return out.astype(np.float32), ok


def _pick_encoding(values: np.ndarray, inside: np.ndarray, integer: bool, conv: Convention) -> str:
    if conv.encoding != "auto":
        return conv.encoding
    if integer:
        return "unit"
    v = values[inside & np.isfinite(values).all(axis=2)]
    if v.size == 0:
        return "unit"
    if float(v.min()) < -1e-3:
        return "signed"
    err_unit = np.median(np.abs(np.linalg.norm(2 * v - 1, axis=1) - 1))
    err_signed = np.median(np.abs(np.linalg.norm(v, axis=1) - 1))
    return "signed" if err_signed < err_unit else "unit"


def decode(values: np.ndarray, *, convention: Convention = Convention(),
           mask: np.ndarray | None = None, integer: bool = True) -> NormalMap:
    """Pixel values (``H x W x 3``, working range) -> :class:`NormalMap`.

    Args:
        values: encoded values (``v`` in [0, 1] for ``unit`` encoding, ``n`` for ``signed``).
        convention: storage convention; the result's ``convention.encoding`` is resolved.
        mask: optional ``H x W`` mask (bool, or numbers: > half the max counts as inside).
        integer: the values came from an integer file (then ``auto`` means ``unit``).

    Raises:
        InputError: not 3 channels, or no valid normal at all (all-zero / all-NaN / empty mask).
        ShapeError: the mask does not match.
    """
    a = np.asarray(values)
    if a.ndim != 3 or a.shape[2] < 3:
        raise InputError(f"a normal map needs 3 channels (x, y, z), got shape {a.shape}")
    a = a[:, :, :3].astype(np.float64)
    inside = check_mask(mask, a.shape[:2])
    enc = _pick_encoding(a, inside, integer, convention)
    n = 2.0 * a - 1.0 if enc == "unit" else a.copy()
    if not convention.y_up:
        n[:, :, 1] *= -1.0
    conv = replace(convention, encoding=enc)  # type: ignore[arg-type]
    return from_vectors(n, None if mask is None else inside, conv, file_values=True)


def from_vectors(vectors: np.ndarray, mask: np.ndarray | None = None,
                 convention: Convention = Convention(encoding="signed"), *,
                 file_values: bool = False) -> NormalMap:
    """Canonical-frame vectors -> :class:`NormalMap` (renormalised), with readable warnings.

    With ``file_values`` (decoded file contents) only lengths in [MIN_NORM, MAX_NORM] count as
    normals and maps with many non-unit vectors are reported as probably not normal maps;
    otherwise any finite non-zero vector is accepted (e.g. unnormalised ``(-zx, -zy, 1)``).

    Raises :class:`InputError` when no pixel holds a usable normal.
    """
    v = np.asarray(vectors, dtype=np.float64)
    shape = v.shape[:2]
    inside = check_mask(mask, shape)
    warnings: list[str] = []
    nonfinite = inside & ~np.isfinite(v).all(axis=2)
    if nonfinite.any():
        warnings.append(f"{int(nonfinite.sum())} pixels hold NaN or infinite values; "
                        "they were masked out")
    v = np.where(np.isfinite(v), v, 0.0)
    norm = np.sqrt((v * v).sum(axis=2))
    plausible = ((norm >= MIN_NORM) & (norm <= MAX_NORM)) if file_values else (norm >= 1e-6)
    short = inside & ~nonfinite & ~plausible
    n, ok = normalize(v, inside & plausible)
    if not ok.any():
        why = ("the mask is empty" if not inside.any()
               else "every vector is zero, NaN or a background colour")
        raise InputError(f"the normal map holds no usable normal ({why})")
    if short.any() and mask is not None:
        warnings.append(f"{int(short.sum())} pixels inside the mask hold no normal (zero-length "
                        "or background colour); they were masked out")
    unit_off = np.abs(norm[ok] - 1.0) > _UNIT_TOL
    if file_values and unit_off.mean() > _NOT_NORMALS_SHARE:
        warnings.append(
            f"{100 * unit_off.mean():.0f}% of the vectors are far from unit length: this looks "
            "like an ordinary image, not a normal map (they were renormalised; open it as an "
            "image instead if that is what it is)")
    if convention.space == "tangent":
        back = ok & (n[:, :, 2] < 0)
        if back.any():
            warnings.append(f"{int(back.sum())} normals point away from the viewer (z < 0) in a "
                            "tangent-space map; check the convention (camera space?)")
    return NormalMap(n, ok, convention, tuple(warnings))


def encode(nmap: NormalMap | np.ndarray, *, y_up: bool | None = None,
           signed: bool = False) -> np.ndarray:
    """Unit normals -> float32 ``H x W x 3`` image values ``(n + 1) / 2`` in [0, 1].

    ``y_up`` defaults to the map's own convention (a DirectX map is written DirectX again).
    Masked-out pixels encode the zero vector (0.5, 0.5, 0.5). ``signed=True`` returns ``n``
    itself (for float files that store signed components).
    """
    if isinstance(nmap, NormalMap):
        n = nmap.normals.astype(np.float64)
        up = nmap.convention.y_up if y_up is None else y_up
    else:
        n = np.asarray(nmap, dtype=np.float64)
        up = True if y_up is None else y_up
    n = n.copy()
    if not up:
        n[:, :, 1] *= -1.0
    out = n if signed else (n + 1.0) * 0.5
    return out.astype(np.float32)
