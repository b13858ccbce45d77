"""Training state on disk: ``last.pt`` (resumable), ``best.pt`` / exported weights (loadable).

``last.pt`` holds everything an exact resume needs: model and optimiser state, scheduler,
the step, the best validation PSNR so far, the elapsed training time, the config, and the RNG
states of python, numpy and torch (batches themselves are seeded per step, see
:func:`core.training.data.batch_rng`). It is written atomically (temporary file + rename), so
a run killed while saving keeps the previous ``last.pt``.

``best.pt`` and exported weights are in the format :func:`core.models.load_model` reads (LIIF:
the official ``{'model': {'name', 'args', 'sd'}}``; fixed-scale: ``{'arch', 'hparams',
'state_dict'}``), float32, with the step and validation PSNR in their ``meta``.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import CheckpointError, InputError, short_message
from ..io.atomic import atomic_path
from ..models.archs.ipf import ipf_from_spec
from ..models.archs.liif import liif_from_spec
from ..models.catalog import load_model
from ..models.checkpoints import build_checked, save_checkpoint
from ..models.registry import get_arch

__all__ = ["TRAIN_FORMAT", "rng_state", "set_rng_state", "save_state", "load_state",
           "export_weights", "model_from_state", "export_file"]

TRAIN_FORMAT = "srw-train-v1"


def rng_state() -> dict[str, Any]:
    """Python, numpy (legacy global) and torch RNG states, as plain containers and tensors."""
    np_state = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": {"name": np_state[0], "keys": torch.from_numpy(np_state[1].astype(np.int64)),
                  "pos": int(np_state[2]), "has_gauss": int(np_state[3]),
                  "cached_gaussian": float(np_state[4])},
        "torch": torch.get_rng_state(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["cached_gaussian"]))
    torch.set_rng_state(state["torch"])


def _atomic_torch_save(obj: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return path


def _cpu_contiguous(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous().clone() for k, v in sd.items()}


def save_state(path: Path, *, model: nn.Module, optimizer: torch.optim.Optimizer,
               scheduler: Any, step: int, best_psnr: float | None, elapsed: float,
               config: dict[str, Any], model_info: dict[str, Any],
               extra: dict[str, Any] | None = None) -> Path:
    """Write the resumable training state to ``path`` (atomically). ``extra``: plain values
    the loop wants back on resume (e.g. the losses since the last log row)."""
    return _atomic_torch_save({
        "extra": dict(extra or {}),
        "format": TRAIN_FORMAT,
        "step": int(step),
        "best_psnr": best_psnr,
        "elapsed": float(elapsed),
        "config": config,
        "model_info": model_info,
        "model": _cpu_contiguous(model.state_dict()),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": rng_state(),
    }, Path(path))


def load_state(path: Path) -> dict[str, Any]:
    """Read a ``last.pt`` written by :func:`save_state` (CheckpointError otherwise)."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"no training state to resume: {p} does not exist")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, corrupt, not ours
        raise CheckpointError(f"{p.name} cannot be read as a training state "
                              f"({str(exc).splitlines()[0][:120]})") from None
    if not isinstance(obj, dict) or obj.get("format") != TRAIN_FORMAT:
        raise CheckpointError(f"{p.name} is not a training state written by 'train' "
                              f"(expected format {TRAIN_FORMAT}); it may be exported weights")
    return obj


def model_from_state(model_info: dict[str, Any]) -> nn.Module:
    """Rebuild the (untrained) module described by ``model_info`` (see model_init.build_model)."""
    if "spec" in model_info:
        if model_info["spec"].get("name") == "ipf":
            return ipf_from_spec(model_info["spec"])
        return liif_from_spec(model_info["spec"])
    return get_arch(model_info["arch"]).build(**model_info["hparams"])


def _checked_state_model(obj: dict, src: Path) -> nn.Module:
    """The model of a training state, built only after its description was checked against
    its tensors (:func:`core.models.checkpoints.build_checked`); one-line errors."""
    info, sd = obj.get("model_info"), obj.get("model")
    if not isinstance(info, dict) or not ("spec" in info or "arch" in info):
        raise CheckpointError(f"{src.name} is a training state without 'model_info' (the model "
                              f"description); expected a last.pt written by 'train'")
    if not isinstance(sd, dict) or not sd or not all(isinstance(v, torch.Tensor)
                                                     for v in sd.values()):
        raise CheckpointError(f"{src.name} is a training state without model weights ('model'); "
                              f"expected a last.pt written by 'train'")
    try:
        if "spec" in info:
            spec = dict(info["spec"])
            arch, hp = get_arch(str(spec.get("name"))), {"spec": spec}
        else:
            arch, hp = get_arch(str(info["arch"])), dict(info.get("hparams") or {})
    except (CheckpointError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{src.name}: its model description is unusable "
                              f"({short_message(exc)})") from None
    return build_checked(arch, hp, sd, src.name)


def export_weights(module: nn.Module, model_info: dict[str, Any], out: Path,
                   meta: dict[str, Any] | None = None, half: bool = False) -> Path:
    """Write ``module`` as loadable weights (:func:`core.models.save_checkpoint`): float32,
    or float16 storage with ``half`` (the model still runs in float32)."""
    module = module.float()
    if "spec" in model_info:
        return save_checkpoint(module, out, spec=model_info["spec"], meta=meta, half=half)
    return save_checkpoint(module, out, arch=model_info["arch"], hparams=model_info["hparams"],
                           meta=meta, half=half)


def export_file(src: str | Path, out: str | Path, overwrite: bool = False,
                half: bool = False) -> tuple[Path, dict]:
    """Export loadable weights (float32, or float16 storage with ``half``) from a run folder,
    ``last.pt`` or ``best.pt``.

    A run folder means its ``best.pt`` when there is one, else its ``last.pt``. Returns the
    written path and the meta stored in it (step, validation PSNR when known, run name).

    Raises:
        CheckpointError: nothing to export, or the source is neither a training state nor
            weights written by ``train``; InputError: ``out`` exists and ``overwrite`` is off,
            or ``half`` and a weight is beyond the float16 range (nothing is written).
    """
    src, out = Path(src), Path(out)
    if src.is_dir():
        cand = [src / "best.pt", src / "last.pt"]
        found = [c for c in cand if c.is_file()]
        if not found:
            raise CheckpointError(f"{src} holds neither best.pt nor last.pt")
        src = found[0]
    if out.exists() and not overwrite:
        raise InputError(f"{out} already exists; pass --overwrite to replace it")
    if not src.is_file():
        raise CheckpointError(f"checkpoint file not found: {src}")
    try:
        obj = torch.load(src, map_location="cpu", weights_only=True)
    except Exception:
        obj = None
    if isinstance(obj, dict) and obj.get("format") == TRAIN_FORMAT:
        info = obj.get("model_info")
        if isinstance(info, dict) and "mzsr" in info:  # meta-weights adapt per image
            raise CheckpointError(f"{src} is an MZSR run; its weights are {src.parent / 'mzsr.pt'}"
                                  f", used with 'python main.py mzsr sr -w'")
        module = _checked_state_model(obj, src)
        config = obj.get("config") if isinstance(obj.get("config"), dict) else {}
        meta = {"step": obj.get("step"), "run": config.get("name"), "source": "last.pt"}
        if obj.get("best_psnr") is not None:
            meta["best_val_psnr_so_far"] = obj["best_psnr"]
    else:
        loaded = load_model(src)  # our weights (best.pt) or any loadable checkpoint
        module = loaded.module
        if loaded.kind == "arbitrary":
            info = {"spec": getattr(module, "spec", None) or loaded.hparams.get("spec")}
        else:
            info = {"arch": loaded.arch, "hparams": loaded.hparams}
        meta = dict(obj["meta"]) if isinstance(obj, dict) and isinstance(obj.get("meta"), dict) \
            else {}
    if half:
        meta["stored_as"] = "float16"
    try:
        path = export_weights(module, info, out, meta=meta, half=half)
    except ValueError as exc:  # a weight beyond the float16 range
        raise InputError(f"cannot store {src} as float16: {exc}") from None
    load_model(path)  # it must load back
    return path, meta
