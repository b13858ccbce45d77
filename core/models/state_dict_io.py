"""Reading checkpoint files into ``(state_dict, meta)``, safely, in the official formats.

* LIIF's self-describing ``{'model': {'name', 'args', 'sd'}}`` (the spec is returned in
  ``meta['spec']``, so LIIF rebuilds with no config);
* our own ``{'arch', 'hparams', 'state_dict'}`` (:func:`core.models.save_checkpoint`);
* plain state dicts, or state dicts wrapped under ``params_ema`` (preferred), ``params``,
  ``state_dict``, ``model``, ``net``...; a ``module.`` (DataParallel) or ``_orig_mod.``
  (``torch.compile``) prefix is stripped;
* ``.safetensors`` files (with our metadata when we wrote them);
* pickled *whole models*, through the restricted unpickler of :mod:`.safe_unpickle`.

Everything is first tried with ``torch.load(weights_only=True)``. Errors are
:class:`~core.errors.CheckpointError` with one readable sentence.
"""

from __future__ import annotations

import json
import struct
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors import safe_open
from torch import Tensor

from ..errors import CheckpointError, short_message
from .safe_unpickle import SAFE_PICKLE, is_module_like, is_stand_in, module_tensors

__all__ = ["load_state_dict_file", "WRAPPER_KEYS"]

#: Keys under which training frameworks nest the state dict, in order of preference.
WRAPPER_KEYS: tuple[str, ...] = ("params_ema", "params", "state_dict", "model_state_dict", "model",
                                 "net", "network", "generator", "netG")
_STRIP_PREFIXES = ("module.", "_orig_mod.")


def _sniff(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(264)


def _looks_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 0 < n < size and head[8:9] == b"{"


def _unreadable(path: Path, head: bytes, exc: BaseException) -> CheckpointError:
    name = path.name
    stripped = head.lstrip()
    texty = bool(head) and all(32 <= c < 127 or c in (9, 10, 13) for c in head[:64])
    if stripped[:1] in (b"{", b"[") or texty:
        preview = head[:20].decode("ascii", "replace").replace("\n", " ")
        return CheckpointError(
            f"{name} is a text file (it starts with {preview!r}), not a PyTorch checkpoint")
    if head[:4] == b"PK\x03\x04" or head[:1] == b"\x80" or head[257:262] == b"ustar":
        return CheckpointError(
            f"{name} cannot be read: the file is truncated or corrupt ({short_message(exc)})")
    return CheckpointError(f"{name} is not a PyTorch checkpoint: unrecognised content "
                           f"(first bytes {head[:8].hex(' ')})")


def _is_torchscript(path: Path, head: bytes) -> bool:
    if head[:4] != b"PK\x03\x04":
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return any(n == "constants.pkl" or n.endswith("/constants.pkl") for n in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _torch_load(path: Path, head: bytes) -> tuple[Any, str]:
    """``(object, loader)``: weights-only first, then the restricted unpickler."""
    if _is_torchscript(path, head):
        raise CheckpointError(f"{path.name} is a TorchScript archive, not a state dict; "
                              f"save model.state_dict() instead")
    try:
        return torch.load(path, map_location="cpu", weights_only=True), "weights_only"
    except Exception as exc:  # noqa: BLE001 - every failure is retried safely, then reported
        error: BaseException = exc
    for encoding in ("utf-8", "latin1"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                obj = torch.load(path, map_location="cpu", pickle_module=SAFE_PICKLE,
                                 weights_only=False, encoding=encoding)
            return obj, "restricted"
        except UnicodeDecodeError as exc:
            error = exc
            continue
        except Exception as exc:  # noqa: BLE001 - the restricted loader's reason is the clearer one
            error = exc
            break
    if "magic number" in str(error).lower():
        raise CheckpointError(f"{path.name} is a Python pickle but not a PyTorch checkpoint "
                              f"(written with pickle, not torch.save)")
    raise _unreadable(path, head, error)


def _is_tensor_map(obj: Any) -> bool:
    return (isinstance(obj, Mapping) and len(obj) > 0
            and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items()))


def _describe(obj: Any) -> str:
    if is_stand_in(obj):
        return f"a pickled {obj._srw_origin} object (not loaded, for safety)"
    if isinstance(obj, Mapping):
        keys = [str(k) for k in list(obj)[:6]]
        more = ", ..." if len(obj) > 6 else ""
        return f"a dict with keys {', '.join(keys)}{more}" if keys else "an empty dict"
    return f"a {type(obj).__name__}"


def _scalars(obj: Mapping) -> dict[str, Any]:
    return {str(k): v for k, v in obj.items()
            if isinstance(k, str) and isinstance(v, (int, float, str, bool))}


def _extract(obj: Any, name: str, depth: int = 0) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Find the state dict inside a loaded object."""
    if is_module_like(obj):
        out: dict[str, Tensor] = OrderedDict()
        module_tensors(obj, "", out)
        if out:
            return out, {"format": "pickled-model", "class": obj._srw_origin}
    if _is_tensor_map(obj):
        return OrderedDict(obj), {"format": "state_dict"}
    if isinstance(obj, Mapping) and depth < 4:
        model = obj.get("model")
        if isinstance(model, Mapping) and "sd" in model and "name" in model:
            if not _is_tensor_map(model["sd"]):
                raise CheckpointError(f"{name} has a LIIF-style spec but its 'sd' is "
                                      f"{_describe(model['sd'])}, not a state dict")
            spec = {"name": model["name"], "args": dict(model.get("args") or {})}
            meta = {"format": "liif", "spec": spec, "extra": _scalars(obj)}
            return OrderedDict(model["sd"]), meta
        ours = isinstance(obj.get("arch"), str) and isinstance(obj.get("hparams"), Mapping)
        if ours and "state_dict" in obj:
            if not _is_tensor_map(obj["state_dict"]):
                raise CheckpointError(f"{name} names architecture {obj['arch']!r} but its "
                                      f"state_dict is {_describe(obj['state_dict'])}")
            meta = {"format": "srw", "arch": obj["arch"], "hparams": dict(obj["hparams"])}
            if isinstance(obj.get("meta"), Mapping):
                meta["meta"] = dict(obj["meta"])
            return OrderedDict(obj["state_dict"]), meta
        inside = ""
        for key in WRAPPER_KEYS:
            if key in obj:
                try:
                    sd, meta = _extract(obj[key], name, depth + 1)
                except CheckpointError:
                    inside = inside or f" ('{key}' holds {_describe(obj[key])})"
                    continue
                meta = {**meta, "format": f"{meta['format']} under '{key}'"}
                meta.setdefault("extra", _scalars(obj))
                return sd, meta
        raise CheckpointError(f"{name} holds {_describe(obj)}{inside}, not a state dict "
                              f"(a mapping of parameter names to tensors)")
    raise CheckpointError(f"{name} holds {_describe(obj)}, not a state dict "
                          f"(a mapping of parameter names to tensors)")


def _strip_prefixes(sd: dict[str, Tensor]) -> tuple[dict[str, Tensor], str]:
    stripped = ""
    changed = True
    while changed:
        changed = False
        for p in _STRIP_PREFIXES:
            if sd and all(k.startswith(p) for k in sd):
                sd = OrderedDict((k[len(p):], v) for k, v in sd.items())
                stripped += p
                changed = True
    return sd, stripped


def _check_storage(sd: Mapping[str, Tensor], name: str, file_bytes: int) -> None:
    """Refuse tensors that claim more elements than their storage holds (zero-stride /
    ``expand``-ed tensors: a 2 KB file can describe a 9 GB tensor), without materialising them."""
    total = 0
    for key, t in sd.items():
        shape = tuple(int(s) for s in t.shape)
        logical = t.numel() * t.element_size()
        try:
            stored = t.untyped_storage().nbytes()
        except Exception:  # noqa: BLE001 - exotic tensors: judged by their logical size
            stored = logical
        expanded = any(st == 0 and n > 1 for st, n in zip(t.stride(), shape))
        if expanded or logical > stored:
            raise CheckpointError(
                f"{name}: tensor '{key}' claims shape {shape} ({logical / 2**20:.0f} MiB) but "
                f"stores only {stored} bytes (an expanded/zero-stride tensor); expected a "
                f"plain state dict of weights")
        total += logical
    if total > 4 * file_bytes + 2**20:
        raise CheckpointError(
            f"{name}: its tensors claim {total / 2**20:.0f} MiB but the file is only "
            f"{file_bytes / 2**20:.1f} MiB; expected a plain state dict of weights")


def _check_finite(sd: Mapping[str, Tensor], name: str) -> None:
    """Refuse NaN/Inf weights; works in place on each tensor's own storage (no copies of
    expanded views: :func:`_check_storage` runs first)."""
    for key, t in sd.items():
        if t.is_floating_point() or t.is_complex():
            if t.numel() == 0:
                continue
            flat = t.detach()
            if not bool(torch.isfinite(flat).all()):
                bad = int((~torch.isfinite(flat)).sum())
                raise CheckpointError(f"{name}: tensor '{key}' contains {bad} NaN/Inf value"
                                      f"{'s' if bad > 1 else ''}, so the weights are broken "
                                      f"(training probably diverged)")


def _load_safetensors(path: Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            md = f.metadata() or {}
            sd = OrderedDict((k, f.get_tensor(k)) for k in f.keys())
    except Exception as exc:  # noqa: BLE001 - SafetensorError and friends
        raise CheckpointError(f"{path.name} cannot be read as safetensors: the file is truncated "
                              f"or corrupt ({short_message(exc)})") from None
    meta: dict[str, Any] = {"format": "safetensors"}
    try:
        if md.get("format") == "srw" and "arch" in md:
            meta.update(arch=md["arch"], hparams=json.loads(md.get("hparams", "{}")))
        elif md.get("format") == "liif" and "spec" in md:
            meta["spec"] = json.loads(md["spec"])
        if "meta" in md:
            meta["meta"] = json.loads(md["meta"])
    except json.JSONDecodeError:
        pass
    return sd, meta


def load_state_dict_file(path: str | Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Read a checkpoint file into ``(state_dict, meta)`` without building any model.

    ``meta`` has ``format`` (how the tensors were stored), ``loader`` (``weights_only``,
    ``restricted`` or ``safetensors``), ``source`` (the path), and when the file says so
    ``spec`` (LIIF), ``arch`` / ``hparams`` (our format), ``stripped_prefix``, ``class`` (a
    pickled whole model) and ``extra`` (top-level scalars such as ``epoch``).

    Raises:
        CheckpointError: missing, empty, truncated or corrupt file, not a checkpoint, no state
            dict inside, or NaN/Inf weights (naming the tensor).
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise CheckpointError(f"checkpoint file not found: {p}")
    if p.is_dir():
        raise CheckpointError(f"{p} is a folder, not a checkpoint file")
    if not p.is_file():
        raise CheckpointError(f"{p} is not a regular file (a device, FIFO or socket), "
                              f"not a checkpoint file")
    size = p.stat().st_size
    if size == 0:
        raise CheckpointError(f"{p.name} is empty (0 bytes), not a checkpoint")
    try:
        head = _sniff(p)
    except OSError as exc:
        raise CheckpointError(f"{p.name} cannot be opened: {short_message(exc)}") from None

    if p.suffix.lower() == ".safetensors" or _looks_safetensors(head, size):
        sd, meta = _load_safetensors(p)
        meta["loader"] = "safetensors"
    else:
        obj, loader = _torch_load(p, head)
        sd, meta = _extract(obj, p.name)
        meta["loader"] = loader
    if not sd:
        raise CheckpointError(f"{p.name} holds an empty state dict")
    sd, stripped = _strip_prefixes(sd)
    if stripped:
        meta["stripped_prefix"] = stripped
    _check_storage(sd, p.name, size)
    _check_finite(sd, p.name)
    meta["source"] = p
    return sd, meta

