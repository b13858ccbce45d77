"""LAM: the official LAM_Demo code vs core.attribution.lam, and the path rules' fidelity.

    python -m bench.lam_speed [--peer PATH] [--lr-size 64,128,256] [--repeats 3]
                              [--threads N] [--image PATH] [--window X,Y]
    python -m bench.lam_speed --fidelity lam,set14 [--precision fp32] [--rules gauss:16,...]

Speed (the default): EDSR-baseline x4 (bundled weights when present, else random weights: the
speed does not depend on the values), the LAM demo's 7.png from ../shared/datasets/lam_images
(256x256 HR -> 64x64 LR; for a larger ``--lr-size`` the HR image is mirrored (reflect-101) out
to ``4 x size``, so the demo's window (x=110, y=150, 16 px) sees the same content), sigma 1.2,
fold 50, kernel 9.

The baseline is the official code (X-Lowlevel-Vision/LAM_Demo ``SaliencyModel``: ``Path_gradient``
with ``GaussianBlurPath``, ``attr_grad``, ``saliency_map_PG``, ``grad_abs_norm``, ``gini``)
loaded from a local clone at ``--peer PATH`` and run on the same model object in the same
process. Two patches make it run on torch 2.x, applied to its source in memory (the clone is
not changed): ``np.asarray(result_list)`` over output tensors that still require grad becomes
``np.asarray([r.detach().numpy() ...])``, and the unused ``torchvision`` / ``matplotlib``
imports are dropped. Without ``--peer`` (or when PATH does not exist: the reason is printed)
the baseline is ``tests/core/lam_reference.py``, a line-by-line port of the same code.

Per case: median wall time of ``--repeats`` interleaved rounds (``--peer-repeats`` for the
baseline at sizes above 64, where one official run takes minutes), speed-up over the
baseline, correlation of the map with the baseline's, and the diffusion index. Rows: ``ours
fp32`` (the default rule, fp32), ``ours default`` (default rule and precision: bf16 where the
CPU runs it fast), ``ours gauss 16`` (``--rule gauss``, default precision). The SR image for
display is not part of the timed work.

Fidelity (``--fidelity``): for each image of the sets (``lam``: the 7 demo images, window as
:func:`tests.core.lam_reference.demo_window`; ``set14``: the Set14 HR images, window at the
centre), the map of each rule in ``--rules`` against the 50-step Riemann map at the same
precision: correlation and the diffusion index difference, then the worst over the images.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import types
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
LAM_IMAGE = DATASETS / "lam_images" / "7.png"
PEER_FILES = ("ModelZoo/__init__.py", "ModelZoo/utils.py", "SaliencyModel/__init__.py",
              "SaliencyModel/utils.py", "SaliencyModel/attributes.py", "SaliencyModel/BackProp.py")
#: (file, old, new): the in-memory patches the official code needs on torch 2.x
PEER_PATCHES = (
    ("ModelZoo/utils.py", "import torchvision\n", ""),
    ("SaliencyModel/utils.py", "import matplotlib.pyplot as plt\n", ""),
    ("SaliencyModel/utils.py", "import matplotlib as mpl\n", ""),
    ("SaliencyModel/BackProp.py", "results_numpy = np.asarray(result_list)",
     "results_numpy = np.asarray([r.detach().cpu().numpy() for r in result_list])"),
)


def _model():
    from core.models import list_models, load_model
    from core.models.archs.edsr import edsr_baseline

    for e in list_models():
        hp = e.hparams
        if (e.arch == "edsr" and e.scales == (4,) and hp.get("n_feats") == 64
                and hp.get("n_resblocks") == 16):
            return load_model(e).module, f"bundled {e.name}"
    torch.manual_seed(0)
    return edsr_baseline(4).eval(), "random weights"


def _image(path: Path | None, lr_size: int) -> tuple[np.ndarray, str]:
    """The LR (``lr_size`` square) of the HR image, mirrored out to ``4 * lr_size`` if smaller."""
    from core.io import load
    from core.resize import degrade

    p = path or LAM_IMAGE
    n = 4 * lr_size
    if p.is_file():
        hr = load(p).pixels[:n, :n]
        name = p.name
    else:
        rng = np.random.default_rng(0)
        yy, xx = np.mgrid[0:256, 0:256] / 256.0
        hr = np.stack([np.sin(9 * xx + 3 * yy), np.cos(7 * yy * xx), xx * yy], -1) * 0.4 + 0.5
        hr = np.clip(hr + 0.05 * rng.standard_normal(hr.shape), 0, 1).astype(np.float32)
        name = "synthetic"
    if hr.shape[0] < n or hr.shape[1] < n:
        hr = np.pad(hr, ((0, max(0, n - hr.shape[0])), (0, max(0, n - hr.shape[1])), (0, 0)),
                    mode="reflect")
        name += f" mirrored to {n}x{n}"
    return degrade(hr[:n, :n], 4).astype(np.float32), name


def load_peer(path: Path) -> dict[str, types.ModuleType]:
    """The official LAM_Demo modules from a clone at ``path``, patched in memory."""
    missing = [f for f in PEER_FILES if not (path / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{path} has no {', '.join(missing)}")
    sources = {f: (path / f).read_text(encoding="utf-8") for f in PEER_FILES}
    for f, old, new in PEER_PATCHES:
        if old not in sources[f]:
            raise RuntimeError(f"{path / f} differs from the expected LAM_Demo code "
                               f"(no {old.strip()!r} to patch)")
        sources[f] = sources[f].replace(old, new)
    saved = {k: sys.modules.get(k) for k in ("ModelZoo", "SaliencyModel")}
    mods: dict[str, types.ModuleType] = {}
    try:
        for f in PEER_FILES:      # in dependency order
            name = f[:-3].replace("/", ".").removesuffix(".__init__")
            mod = types.ModuleType(name)
            mod.__file__ = str(path / f)
            if f.endswith("__init__.py"):
                mod.__path__ = [str(path / Path(f).parent)]
            sys.modules[name] = mod
            if "." in name:
                setattr(sys.modules[name.split(".")[0]], name.split(".")[1], mod)
            exec(compile(sources[f], str(path / f), "exec"), mod.__dict__)  # noqa: S102
            mods[name] = mod
    finally:
        for k in list(sys.modules):
            if k.split(".")[0] in saved:
                del sys.modules[k]
        sys.modules.update({k: v for k, v in saved.items() if v is not None})
    return mods


def peer_lam(mods, model, lr: np.ndarray, x: int, y: int, fold: int = 50):
    """The official demo's LAM, as its notebook runs it (window 16, sigma 1.2, l 9)."""
    bp, attrs, ut = (mods["SaliencyModel.BackProp"], mods["SaliencyModel.attributes"],
                     mods["SaliencyModel.utils"])
    objective = bp.attribution_objective(attrs.attr_grad, y, x, window=16)
    path_func = bp.GaussianBlurPath(sigma=1.2, fold=fold, l=9)
    img = np.ascontiguousarray(np.moveaxis(lr, 2, 0))
    grads, results, _ = bp.Path_gradient(img, model, objective, path_func, cuda=False)
    grad, _ = bp.saliency_map_PG(grads, results)
    amap = ut.grad_abs_norm(grad)
    model.zero_grad(set_to_none=True)       # the official backward also filled weight grads
    return amap, (1 - ut.gini(amap)) * 100


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def speed(args) -> None:
    from core.attribution import LAMOptions, lam
    from core.data import ImageData, Region
    from core.jobs import run_sync
    from tests.core.lam_reference import reference_lam

    model, weights = _model()
    model.float().eval()
    wx, wy = (int(v) for v in args.window.split(","))
    mods, base_name = None, "official (port)"
    if args.peer is not None:
        try:
            mods = load_peer(args.peer)
            base_name = "official LAM_Demo"
        except (FileNotFoundError, RuntimeError) as exc:
            print(f"peer skipped: {exc}; the baseline is the port (tests/core/lam_reference.py)"
                  f". Clone X-Lowlevel-Vision/LAM_Demo there to run the official code.")
    print(f"LAM, EDSR-baseline x4 ({weights}), window {wx},{wy} 16 px, fold 50; CPU threads "
          f"{torch.get_num_threads()}; baseline: {base_name}")
    print(f"{'LR':>9} {'implementation':<18} {'time s':>8} {'speed-up':>8} {'corr':>8} "
          f"{'DI':>7}")
    for size in args.lr_size:
        lr, img_name = _image(args.image, size)

        def ours(precision: str, rule: str | None = None, steps: int | None = None,
                 fold: int = 50, _lr=lr):
            kw = {"rule": rule} if rule else {}
            opts = LAMOptions(precision=precision, fold=fold, steps=steps, with_sr=False,
                              device="cpu", **kw)
            res = run_sync(lam(model, ImageData(_lr), Region(wx, wy, 16, 16), options=opts))
            return res.map, res.diffusion_index

        def base(fold: int = 50, _lr=lr):
            if mods is not None:
                return peer_lam(mods, model, _lr, wx, wy, fold)
            r = reference_lam(model, _lr, wx, wy, 16, fold=fold)
            return r["map"], r["di"]

        impls = {base_name: base,
                 "ours fp32": lambda **k: ours("fp32", **k),
                 "ours default": lambda **k: ours("auto", **k),
                 "ours gauss 16": lambda **k: ours("auto", "gauss", 16 if not k else 2, **k)}
        for f in impls.values():   # warm-up: library initialisation, not LAM
            f(fold=2)
        times: dict[str, list[float]] = {k: [] for k in impls}
        maps: dict[str, tuple[np.ndarray, float]] = {}
        for r in range(args.repeats):
            for name, f in impls.items():
                if name == base_name and size > 64 and r >= args.peer_repeats:
                    continue
                t0 = time.perf_counter()
                maps[name] = f()
                times[name].append(time.perf_counter() - t0)
        base_t = statistics.median(times[base_name])
        ref_map = maps[base_name][0]
        for name in impls:
            sec = statistics.median(times[name])
            m, di = maps[name]
            print(f"{size:>4}x{size:<4} {name:<18} {sec:8.2f} {base_t / sec:7.2f}x "
                  f"{_corr(m, ref_map):8.5f} {di:7.2f}   [{len(times[name])} runs; "
                  f"{img_name}]", flush=True)


def fidelity(args) -> None:
    import os

    from core.attribution import LAMOptions, lam
    from core.data import ImageData, Region
    from core.io import load
    from core.jobs import run_sync
    from core.resize import degrade
    from tests.core.lam_reference import demo_window

    model, weights = _model()
    sets = {"lam": DATASETS / "lam_images", "set14": DATASETS / "benchmark" / "Set14" / "HR"}
    files = [p for s in args.fidelity for p in sorted(sets[s].glob("*.png"))]
    if not files:
        print(f"fidelity skipped: no images under {DATASETS} (../shared/datasets)")
        return
    rules = [(r.split(":")[0], int(r.split(":")[1])) for r in args.rules.split(",")]
    print(f"LAM path rules vs the 50-step Riemann map, EDSR-baseline x4 ({weights}), "
          f"{args.precision}, window 16 (demo 7.png at 110,150, others at the centre)")
    print(f"{'image':<12} {'LR':>8} {'DI':>6} " + " ".join(f"{r}:{n:<3} corr / dDI".rjust(22)
                                                        for r, n in rules))
    worst = {k: (1.0, 0.0) for k in rules}
    for f in files:
        hr = load(f).pixels
        if hr.shape[2] != 3:
            print(f"{f.name:<12} gray, skipped")
            continue
        hr = hr[: hr.shape[0] // 4 * 4, : hr.shape[1] // 4 * 4]
        lr = degrade(hr, 4).astype(np.float32)
        x, y = demo_window(os.path.basename(f), hr.shape[:2])

        def run(rule, steps):
            return run_sync(lam(model, ImageData(lr), Region(x, y, 16, 16), options=LAMOptions(
                rule=rule, steps=steps, precision=args.precision, with_sr=False,
                device="cpu")))
        ref = run("riemann", 50)
        cells = []
        for k in rules:
            r = run(*k)
            c, d = _corr(r.map, ref.map), r.diffusion_index - ref.diffusion_index
            worst[k] = (min(worst[k][0], c), max(worst[k][1], abs(d)))
            cells.append(f"{r.steps:>3} st {c:.5f} / {d:+.3f}".rjust(22))
        print(f"{f.name:<12} {lr.shape[1]:>3}x{lr.shape[0]:<4} {ref.diffusion_index:6.2f} "
              + " ".join(cells), flush=True)
    print(f"{'worst':<12} {'':>8} {'':>6} " + " ".join(
        f"{worst[k][0]:.5f} / {worst[k][1]:.3f}".rjust(22) for k in rules))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--peer-repeats", type=int, default=1,
                    help="baseline runs at LR sizes above 64 (minutes each)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--image", type=Path, default=None, help="HR image")
    ap.add_argument("--window", default="110,150", help="X,Y of the 16 px window (HR pixels)")
    ap.add_argument("--peer", type=Path, default=None,
                    help="a local clone of X-Lowlevel-Vision/LAM_Demo: the official baseline")
    ap.add_argument("--lr-size", default="64",
                    type=lambda s: [int(v) for v in s.split(",")],
                    help="LR sizes, e.g. 64,128,256 (default 64, the demo's)")
    ap.add_argument("--fidelity", default=None, type=lambda s: s.split(","),
                    help="image sets for the rule fidelity table: lam, set14")
    ap.add_argument("--rules", default="gauss:16,adaptive:31",
                    help="rules for --fidelity, RULE:STEPS, comma separated")
    ap.add_argument("--precision", default="fp32", help="for --fidelity")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.fidelity:
        fidelity(args)
    else:
        speed(args)


if __name__ == "__main__":
    main()
