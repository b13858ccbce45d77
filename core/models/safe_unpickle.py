"""The restricted unpickler for pickled *whole models* (an old PyTorch habit).

:data:`SAFE_PICKLE` is a module-like object for ``torch.load(pickle_module=SAFE_PICKLE)``. Its
unpickler resolves only an allow-list of tensor-rebuilding functions and harmless builtins;
every other class or function named by the file becomes an inert stand-in (:class:`Inert`)
that only records its constructor arguments and state. Nothing from the file is imported or
executed. :func:`module_tensors` then collects the tensors of a pickled ``nn.Module`` from the
stand-ins' ``_parameters`` / ``_buffers`` / ``_modules``, named by module path.
"""

from __future__ import annotations

import io
import pickle
import types
from collections import OrderedDict
from typing import Any, Mapping

import torch
from torch import Tensor

__all__ = ["SAFE_PICKLE", "Inert", "module_tensors", "is_module_like", "is_stand_in"]


class Inert:
    """Stand-in for a class the safe loader refuses to import: records, never runs, anything."""

    dump_patches = False  # read by torch's legacy loader; True would make it write patch files
    _srw_origin = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> "Inert":
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
        cls = type(f"Inert_{name}", (Inert,), {"_srw_origin": f"{module}.{name}",
                                                  "__module__": "srw_inert_stand_ins"})
        _stand_ins[key] = cls
    return cls


def _state_of(obj: Inert) -> dict:
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
    if isinstance(cls, type) and issubclass(cls, Inert):
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
    return _RestrictedUnpickler(io.BytesIO(data), **kwargs).load()


#: A module-like object for ``torch.load(pickle_module=...)``.
SAFE_PICKLE = types.ModuleType("srw_safe_pickle")
SAFE_PICKLE.Unpickler = _RestrictedUnpickler  # type: ignore[attr-defined]
SAFE_PICKLE.load = _restricted_load  # type: ignore[attr-defined]
SAFE_PICKLE.loads = _restricted_loads  # type: ignore[attr-defined]
SAFE_PICKLE.UnpicklingError = pickle.UnpicklingError  # type: ignore[attr-defined]


def _module_tensors(obj: Inert, prefix: str, out: dict[str, Tensor],
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
            if isinstance(sub, Inert):
                _module_tensors(sub, f"{prefix}{name}.", out, stack + (id(obj),))


def _is_module_like(obj: Any) -> bool:
    if not isinstance(obj, Inert):
        return False
    st = _state_of(obj)
    return any(k in st for k in ("_parameters", "_modules", "_buffers"))



#: Public names of the helpers the checkpoint reader uses.
module_tensors = _module_tensors
is_module_like = _is_module_like


def is_stand_in(obj: Any) -> bool:
    """True for an inert stand-in made by the restricted unpickler."""
    return isinstance(obj, Inert)
