"""A study run as planned units (one per image and model), for :mod:`core.scale`'s executors.

:class:`StudySpec` says everything a worker needs to run a study on one image (plain values and
paths: backgrounds are read by the worker from the shared path); :func:`study_unit` is the one
function that computes a unit's CSV rows, here or on a Ray worker; :func:`plan_units` makes the
units the study CSV does not hold yet, and :func:`merge_order` puts rows back in plan order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..data import Region
from ..errors import InputError, SRWError
from ..io import load
from ..jobs import Job, run_sync
from .common import StudyOptions, StudyResult
from .batch import csv_rows

__all__ = ["StudySpec", "ModelRef", "study_fn", "study_unit", "plan_units", "next_readable"]


@dataclass(frozen=True)
class ModelRef:
    """A model as the driver loaded it: ``spec`` (name or checkpoint), its weights ``digest``
    and display ``name`` (the CSV's model column)."""

    spec: str
    digest: str
    name: str
    scale_hint: int | None = None


@dataclass(frozen=True)
class StudySpec:
    """One study's settings (the options of ``srw study NAME``)."""

    study: str
    options: StudyOptions
    region: Region | None = None
    margins: tuple[int, ...] = ()
    backgrounds: tuple[Path, ...] = ()      # swap: foreign backgrounds (files)
    flips: bool = True                      # swap: the image's own flips too
    background: Path | None = None          # size: a fixed background (else the next image)
    widths: tuple[int, ...] = ()
    modes: tuple[str, ...] = ()
    tta_passes: int = 25
    keep_results: bool = False              # return the StudyResult too (galleries)
    files: tuple[Path, ...] = field(default=())   # the run's images (size: next image)


def next_readable(files: Sequence[Path], i: int) -> np.ndarray:
    """The pixels of the first readable image after ``files[i]`` (cyclic): a foreign
    background for the size sweep."""
    for k in range(1, len(files)):
        try:
            return load(files[(i + k) % len(files)]).pixels
        except SRWError:
            continue
    raise InputError("no other readable image in the folder to use as the foreign background")


def study_fn(spec: StudySpec):
    """``fn(models, hr, name, index, files) -> Job[StudyResult]`` of :func:`run_batch`."""
    # lazy: the study modules import each other through the package
    from .crop import crop_study, preset_region
    from .mosaic import check_tta_passes, mosaic_study
    from .swap import size_study, swap_study

    o = spec.options
    if spec.study == "crop":
        return lambda m, hr, name, i, files: crop_study(m, hr, spec.region, spec.margins, o, name)
    if spec.study == "swap":
        def swap(m, hr, name, i, files) -> Job[StudyResult]:
            bgs = [(f.stem, load(f).pixels) for f in spec.backgrounds
                   if f.stem != Path(name).stem]
            reg = spec.region or preset_region(hr.shape[:2], o.scale)
            return swap_study(m, hr, reg, bgs, spec.flips, o, name)
        return swap
    if spec.study == "size":
        def size(m, hr, name, i, files) -> Job[StudyResult]:
            if spec.background is None and len(files) < 2:
                raise InputError("the size sweep needs a foreign background: pass "
                                 "--background FILE (or run on a folder)")
            bg = load(spec.background).pixels if spec.background is not None \
                else next_readable(files, i)
            return size_study(m, hr, bg, spec.region, spec.widths, spec.modes, o, name)
        return size
    if spec.study == "mosaic":
        check_tta_passes(spec.tta_passes, "--tta-passes")
        return lambda m, hr, name, i, files: mosaic_study(m, hr, spec.region, spec.tta_passes,
                                                          o, name)
    raise InputError(f"unknown study {spec.study!r}")


def study_unit(spec: StudySpec, model: ModelRef, f: Path, i: int
               ) -> tuple[list[dict[str, str]], StudyResult | None]:
    """One unit: ``spec``'s study of image ``f`` (``i``-th of ``spec.files``) with ``model``
    (loaded once per worker): its CSV rows, and the result when ``spec.keep_results``."""
    from ..scale.worker import cached_model  # lazy: core.scale only for batch units

    loaded = cached_model(model.spec, model.scale_hint, model.digest)
    hr = load(f).pixels
    res = run_sync(study_fn(spec)([(model.name, loaded.module)], hr, f.name, i,
                                  list(spec.files)))
    return csv_rows(res), (res if spec.keep_results else None)


def plan_units(spec: StudySpec, models: Sequence[ModelRef], done: set[tuple[str, str]]
               ) -> tuple[list[tuple[int, int, Path, ModelRef]], dict[tuple[str, str], int]]:
    """The units not in ``done`` as ``(plan index, image index, image, model)``, and the plan
    index of every (image name, model name), image-major."""
    index: dict[tuple[str, str], int] = {}
    todo = []
    for i, f in enumerate(spec.files):
        for m in models:
            k = len(index)
            index[(f.name, m.name)] = k
            if (f.name, m.name) not in done:
                todo.append((k, i, f, m))
    return todo, index


