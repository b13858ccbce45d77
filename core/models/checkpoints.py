"""Loading and saving checkpoints, safely, in the official formats.

Read (:func:`load_state_dict_file`):

* LIIF's self-describing ``{'model': {'name', 'args', 'sd'}}`` (the spec is returned in
  ``meta['spec']``, so LIIF rebuilds with no config);
* our own ``{'arch', 'hparams', 'state_dict'}`` (:func:`save_checkpoint`);
* plain state dicts, or state dicts wrapped under ``params_ema`` (preferred), ``params``,
  ``state_dict``, ``model``, ``net``...; a ``module.`` (DataParallel) or ``_orig_mod.``
  (``torch.compile``) prefix is stripped;
* ``.safetensors`` files (with our metadata when we wrote them);
* pickled *whole models* (old PyTorch habit): read with a restricted unpickler that imports
  nothing but tensor-rebuilding functions; every other class becomes an inert stand-in that
  only records its state, and the tensors are collected from the stand-ins' ``_parameters`` /
  ``_buffers`` / ``_modules`` under their module paths. Nothing from the file is executed.

Everything is first tried with ``torch.load(weights_only=True)``. Errors are
:class:`~core.errors.CheckpointError` with one readable sentence.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import tempfile
import types
import warnings
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
from torch import Tensor, nn

from ..errors import CheckpointError
from .contracts import ArbitraryScaleSR

__all__ = [
    "LoadedModel",
    "load_state_dict_file",
    "load_model",
    "save_checkpoint",
    "describe_checkpoint",
    "WRAPPER_KEYS",
]

#: Keys under which training frameworks nest the state dict, in order of preference.
WRAPPER_KEYS: tuple[str, ...] = ("params_ema", "params", "state_dict", "model_state_dict", "model",
                                 "net", "network", "generator", "netG")
_STRIP_PREFIXES = ("module.", "_orig_mod.")


# ---------------------------------------------------------------------------------------------
# The restricted unpickler
# ---------------------------------------------------------------------------------------------

class _Inert:
    """Stand-in for a class the safe loader refuses to import: records, never runs, anything."""

    dump_patches = False  # read by torch's legacy loader; True would make it write patch files
    _srw_origin = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> "_Inert":
        self = object.__new__(cls)
        d = self.__dict__
        d["_srw_args"] = args
        d["_srw_state"] = None
        d["_srw_items"] = {}
        d["_srw_list"] = []
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.__dict__["_srw_state"] = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__dict__["_srw_items"][key] = value

    def append(self, value: Any) -> None:
        self.__dict__["_srw_list"].append(value)

    def extend(self, values: Any) -> None:
        self.__dict__["_srw_list"].extend(values)

    def __repr__(self) -> str:
        return f"<inert stand-in for {self._srw_origin}>"


_stand_ins: dict[tuple[str, str], type] = {}


def _stand_in(module: str, name: str) -> type:
    key = (str(module), str(name))
    cls = _stand_ins.get(key)
    if cls is None:
        # __module__ names no importable module, so torch's source check cannot find it.
        cls = type(f"Inert_{name}", (_Inert,), {"_srw_origin": f"{module}.{name}",
                                                  "__module__": "srw_inert_stand_ins"})
        _stand_ins[key] = cls
    return cls


def _state_of(obj: _Inert) -> dict:
    st = obj.__dict__.get("_srw_state")
    if isinstance(st, tuple) and len(st) == 2 and all(s is None or isinstance(s, dict) for s in st):
        merged: dict = {}
        for s in st:
            merged.update(s or {})
        return merged
    return st if isinstance(st, dict) else {}


def _rebuild_tensor(storage: Any, storage_offset: int, size: Any, stride: Any) -> Tensor:
    return torch._utils._rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage: Any, storage_offset: int, size: Any, stride: Any,
                       requires_grad: bool = False, backward_hooks: Any = None,
                       metadata: Any = None) -> Tensor:
    # Hooks and metadata from the file are dropped.
    return torch._utils._rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data: Any, requires_grad: bool = False, backward_hooks: Any = None,
                       state: Any = None) -> Any:
    return data.detach() if isinstance(data, Tensor) else data


def _parameter(data: Any = None, requires_grad: bool = True) -> Any:
    return data.detach() if isinstance(data, Tensor) else torch.empty(0)


def _rebuild_from_type_v2(func: Any, new_type: Any, args: Any, state: Any) -> Any:
    # ``func`` was resolved by our find_class, so it is an allowed rebuild function or a stand-in.
    result = func(*args)
    return result.detach() if isinstance(result, Tensor) else result


def _reconstructor(cls: Any, base: Any, state: Any) -> Any:
    if isinstance(cls, type) and issubclass(cls, _Inert):
        return cls.__new__(cls)
    if cls is OrderedDict:
        return OrderedDict()
    return _stand_in("copyreg", "_reconstructor")()


_CODECS = ("latin1", "latin-1", "utf-8", "utf8")


def _codecs_encode(obj: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    if not isinstance(obj, str) or encoding.lower().replace("_", "-") not in _CODECS:
        raise pickle.UnpicklingError("refused _codecs.encode call")
    return obj.encode(encoding, errors)


_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch.nn.parameter", "Parameter"): _parameter,
    ("torch", "Size"): torch.Size,
    ("torch", "device"): torch.device,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("_codecs", "encode"): _codecs_encode,
}
for _b in ("builtins", "__builtin__"):
    for _n, _v in (("set", set), ("frozenset", frozenset), ("slice", slice), ("complex", complex),
                   ("tuple", tuple), ("list", list), ("dict", dict)):
        _ALLOWED[(_b, _n)] = _v


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only allow-listed globals; any other class or function becomes a stand-in."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = _ALLOWED.get((module, name))
        if allowed is not None:
            return allowed
        if module == "torch":
            value = getattr(torch, name, None)
            if isinstance(value, torch.dtype):
                return value
            if name.endswith("Storage"):
                try:
                    return torch.serialization.StorageType(name)
                except Exception:
                    pass
        return _stand_in(module, name)


def _restricted_load(file: Any, **kwargs: Any) -> Any:
    return _RestrictedUnpickler(file, **kwargs).load()


def _restricted_loads(data: bytes, **kwargs: Any) -> Any:
    import io

    return _RestrictedUnpickler(io.BytesIO(data), **kwargs).load()


#: A module-like object for ``torch.load(pickle_module=...)``.
SAFE_PICKLE = types.ModuleType("srw_safe_pickle")
SAFE_PICKLE.Unpickler = _RestrictedUnpickler  # type: ignore[attr-defined]
SAFE_PICKLE.load = _restricted_load  # type: ignore[attr-defined]
SAFE_PICKLE.loads = _restricted_loads  # type: ignore[attr-defined]
SAFE_PICKLE.UnpicklingError = pickle.UnpicklingError  # type: ignore[attr-defined]


def _module_tensors(obj: _Inert, prefix: str, out: dict[str, Tensor],
                    stack: tuple[int, ...] = ()) -> None:
    """Collect the tensors of a pickled ``nn.Module`` stand-in, named by module path."""
    if id(obj) in stack or len(stack) > 200:
        return
    st = _state_of(obj)
    params = st.get("_parameters")
    if isinstance(params, Mapping):
        for name, t in params.items():
            if isinstance(t, Tensor):
                out[prefix + str(name)] = t.detach()
    buffers = st.get("_buffers")
    non_persistent = st.get("_non_persistent_buffers_set") or set()
    if isinstance(buffers, Mapping):
        for name, t in buffers.items():
            if isinstance(t, Tensor) and name not in non_persistent:
                out[prefix + str(name)] = t.detach()
    modules = st.get("_modules")
    if isinstance(modules, Mapping):
        for name, sub in modules.items():
            if isinstance(sub, _Inert):
                _module_tensors(sub, f"{prefix}{name}.", out, stack + (id(obj),))


def _is_module_like(obj: Any) -> bool:
    if not isinstance(obj, _Inert):
        return False
    st = _state_of(obj)
    return any(k in st for k in ("_parameters", "_modules", "_buffers"))


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def _sniff(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(264)


def _looks_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 0 < n < size and head[8:9] == b"{"


def _short(exc: BaseException, limit: int = 120) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
            f"{name} cannot be read: the file is truncated or corrupt ({_short(exc)})")
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
    if isinstance(obj, _Inert):
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
    if _is_module_like(obj):
        out: dict[str, Tensor] = OrderedDict()
        _module_tensors(obj, "", out)
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


def _check_finite(sd: Mapping[str, Tensor], name: str) -> None:
    for key, t in sd.items():
        if t.is_floating_point() or t.is_complex():
            bad = int((~torch.isfinite(t)).sum())
            if bad:
                raise CheckpointError(f"{name}: tensor '{key}' contains {bad} NaN/Inf value"
                                      f"{'s' if bad > 1 else ''}, so the weights are broken "
                                      f"(training probably diverged)")


def _load_safetensors(path: Path) -> tuple[dict[str, Tensor], dict[str, Any]]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            md = f.metadata() or {}
            sd = OrderedDict((k, f.get_tensor(k)) for k in f.keys())
    except Exception as exc:  # noqa: BLE001 - SafetensorError and friends
        raise CheckpointError(f"{path.name} cannot be read as safetensors: the file is truncated "
                              f"or corrupt ({_short(exc)})") from None
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
    size = p.stat().st_size
    if size == 0:
        raise CheckpointError(f"{p.name} is empty (0 bytes), not a checkpoint")
    try:
        head = _sniff(p)
    except OSError as exc:
        raise CheckpointError(f"{p.name} cannot be opened: {_short(exc)}") from None

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
    _check_finite(sd, p.name)
    meta["source"] = p
    return sd, meta


# ---------------------------------------------------------------------------------------------
# Building models
# ---------------------------------------------------------------------------------------------

@dataclass
class LoadedModel:
    """A ready model: ``module`` in eval mode, with what it is and where it came from.

    ``scale`` is the integer scale of fixed-scale models, None for arbitrary-scale and
    interpolation models; ``source`` is the weight file (None for baselines).
    """

    module: nn.Module
    arch: str
    hparams: dict[str, Any]
    kind: str
    scale: int | None
    source: Path | None
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def _arch_for(sd: Mapping[str, Tensor], meta: Mapping[str, Any],
              name: str) -> tuple[Any, dict[str, Any]]:
    from .registry import detect_architecture, get_arch

    if "spec" in meta:
        spec = meta["spec"]
        spec_name = str(spec.get("name"))
        if spec_name != "liif":
            raise CheckpointError(f"{name} describes a {spec_name!r} model in LIIF's format; only "
                                  f"'liif' is supported in that format")
        return get_arch("liif"), {"spec": spec}
    if "arch" in meta:
        try:
            return get_arch(str(meta["arch"])), dict(meta.get("hparams") or {})
        except CheckpointError as exc:
            raise CheckpointError(f"{name}: {exc}") from None
    try:
        return detect_architecture(sd)
    except CheckpointError as exc:
        raise CheckpointError(f"{name}: {exc}") from None


def _fmt_hp(hp: Mapping[str, Any]) -> str:
    if "spec" in hp:
        return "its spec"
    return ", ".join(f"{k}={v}" for k, v in hp.items())


def _strict_load(module: nn.Module, sd: Mapping[str, Tensor], arch: str, hp: Mapping[str, Any],
                 name: str) -> None:
    own = module.state_dict()
    mismatched = [(k, tuple(sd[k].shape), tuple(v.shape)) for k, v in own.items()
                  if k in sd and tuple(sd[k].shape) != tuple(v.shape)]
    if mismatched:
        k, found, expected = mismatched[0]
        n = len(mismatched) - 1
        more = f" (and {n} more mismatched tensors)" if n else ""
        raise CheckpointError(f"{name}: tensor '{k}' has shape {found} in the checkpoint but "
                              f"{arch} ({_fmt_hp(hp)}) expects {expected}{more}")
    try:
        module.load_state_dict(sd, strict=True)
    except RuntimeError:
        result = module.load_state_dict(sd, strict=False)
        from .registry import _preview

        parts = []
        if result.missing_keys:
            parts.append(f"missing {_preview(list(result.missing_keys))}")
        if result.unexpected_keys:
            parts.append(f"unexpected {_preview(list(result.unexpected_keys))}")
        detail = "; ".join(parts) or "load failed"
        raise CheckpointError(f"{name} does not fit {arch} ({_fmt_hp(hp)}): {detail}") from None


def describe_checkpoint(path: str | Path) -> tuple[str, dict[str, Any], str, int | None]:
    """``(arch, hparams, kind, scale)`` of a checkpoint file, without building the model."""
    sd, meta = load_state_dict_file(path)
    arch, hp = _arch_for(sd, meta, Path(path).name)
    scale = int(hp.get("scale", 2)) if arch.kind == "fixed" else None
    return arch.name, hp, arch.kind, scale


def _load_file(path: Path, name: str) -> LoadedModel:
    sd, meta = load_state_dict_file(path)
    arch, hp = _arch_for(sd, meta, path.name)
    try:
        module = arch.build(**hp)
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(
            f"{path.name}: cannot build {arch.name} with {_fmt_hp(hp)} ({_short(exc)})") from None
    _strict_load(module, sd, arch.name, hp, path.name)
    module.eval()
    scale = int(getattr(module, "scale")) if arch.kind == "fixed" else None
    full_hp = dict(getattr(module, "hparams", None) or hp)  # every constructor argument, when known
    return LoadedModel(module=module, arch=arch.name, hparams=full_hp, kind=arch.kind, scale=scale,
                       source=path, name=name, meta=meta)


def load_model(path_or_name: Any) -> LoadedModel:
    """Load a model by catalog name (``bicubic``, a bundled model), :class:`ModelEntry` or path.

    The architecture comes from the file (LIIF spec, our format) or is detected from the state
    dict; the module is built and loaded with ``strict=True`` and put in eval mode.

    Raises:
        CheckpointError: see :func:`load_state_dict_file`; also no matching architecture
            (naming the closest), or a tensor whose shape does not fit (expected vs found).
    """
    from .archs.interp import Interpolation
    from .registry import ModelEntry, resolve

    if isinstance(path_or_name, ModelEntry):
        entry = path_or_name
    elif isinstance(path_or_name, Path):
        return _load_file(path_or_name.expanduser(), path_or_name.stem)
    else:
        text = str(path_or_name)
        p = Path(text).expanduser()
        if not _is_catalog_name(text) and p.is_file():
            return _load_file(p, p.stem)
        entry = resolve(text)
    if entry.kind == "interp":
        method = entry.hparams.get("method", entry.name)
        return LoadedModel(module=Interpolation(method).eval(), arch="interp",
                           hparams={"method": method}, kind="interp", scale=None, source=None,
                           name=entry.name)
    if entry.weights is None:
        raise CheckpointError(f"model {entry.name!r} has no weight file")
    return _load_file(Path(entry.weights), entry.name)


def _is_catalog_name(text: str) -> bool:
    from .registry import BASELINES, _NAME_ALIASES

    key = _NAME_ALIASES.get(text.lower(), text.lower())
    return any(e.name == key for e in BASELINES)


# ---------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------

def save_checkpoint(module: nn.Module, path: str | Path, *, spec: dict | None = None,
                    arch: str | None = None, hparams: Mapping[str, Any] | None = None,
                    meta: Mapping[str, Any] | None = None) -> Path:
    """Write ``module`` so that :func:`load_model` rebuilds it with no config. Atomic.

    LIIF (an :class:`ArbitraryScaleSR` with a ``spec``, or ``spec=`` given) is written in the
    official ``{'model': {'name', 'args', 'sd'}}`` layout; other models as
    ``{'arch': name, 'hparams': {...}, 'state_dict': ..., 'meta': {...}}`` with ``arch`` /
    ``hparams`` defaulting to the module's ``arch_name`` / ``hparams``. A ``.safetensors``
    path writes safetensors with the same information in its string metadata. ``meta`` must
    hold plain values (numbers, strings, lists, dicts).
    """
    path = Path(path)
    sd = OrderedDict((k, v.detach().cpu().clone().contiguous())
                     for k, v in module.state_dict().items())
    if spec is None and isinstance(module, ArbitraryScaleSR):
        spec = getattr(module, "spec", None)
    safetensors = path.suffix.lower() == ".safetensors"
    if spec is not None:
        spec = {"name": spec.get("name", "liif"), "args": spec.get("args", {})}
        obj: dict[str, Any] = {"model": {**spec, "sd": sd}}
        st_meta = {"format": "liif", "spec": json.dumps(spec)}
    else:
        arch = arch or getattr(module, "arch_name", None)
        hp = dict(hparams if hparams is not None else getattr(module, "hparams", {}) or {})
        if not arch:
            raise ValueError("save_checkpoint needs arch= for a module without an arch_name")
        from .registry import get_arch

        get_arch(arch)  # must be a known architecture so it loads back
        obj = {"arch": arch, "hparams": hp, "state_dict": sd}
        st_meta = {"format": "srw", "arch": arch, "hparams": json.dumps(hp)}
    if meta:
        obj["meta"] = dict(meta)
        st_meta["meta"] = json.dumps(dict(meta), default=str)

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        if safetensors:
            from safetensors.torch import save_file

            save_file(dict(sd), tmp, metadata=st_meta)
        else:
            torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
