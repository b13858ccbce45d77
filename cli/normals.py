"""CLI for normal maps and surfaces.

``python main.py sr NORMALS.png -s 4 --kind normals [--shape-model M --detail-model M --sigma S]
[--normals-method split|naive] [--mask M] -o OUT.png``
``python main.py normals split IN [--sigma S] [--mask M] -o DIR``
``python main.py normals error A B [--mask M] [--region X,Y,W,H] [--json]``
``python main.py surface NORMALS.png [--mask M] [--K K.txt [--K-scale S]] [--method NAME]
[-o mesh.ply] [--depth out.npy] [--render out.png] [--view AZ,EL] [--max-size N] [--color IMG]``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from core.data import Region
from core.errors import InputError

from .options import (int_range, non_negative_int, parse_scale, parse_size, positive_float,
                      run_options)
from .outputs import check_outputs
from .progress import run_with_bar

__all__ = ["add_parsers", "add_sr_options", "cmd_sr_normals", "cmd_split", "cmd_error",
           "cmd_surface"]


def _convention_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--y-down", action="store_true",
                   help="the green channel points down (DirectX); default: up (OpenGL, DiLiGenT)")
    p.add_argument("--space", choices=["camera", "tangent"], default="camera",
                   help="camera/object space (z may be < 0) or tangent space (z >= 0)")


def add_sr_options(p: argparse.ArgumentParser) -> None:
    """Options of ``sr`` that apply with ``--kind normals``."""
    g = p.add_argument_group("normal maps (--kind normals)")
    g.add_argument("--shape-model", default=None, help="model for the shape part (default: -m)")
    g.add_argument("--detail-model", default=None, help="model for the detail part (default: -m)")
    g.add_argument("--sigma", type=positive_float, default=3.0,
                   help="shape low-pass in input pixels (default 3)")
    g.add_argument("--normals-method", choices=["split", "naive"], default="split",
                   help="split: SR of shape and detail, recombined (default); naive: SR of the "
                        "encoded map")
    g.add_argument("--mask", default=None, help="mask image (default: alpha, or non-zero normals)")
    _convention_options(g)


def add_parsers(sub) -> None:
    """Register ``normals split|error`` and ``surface``."""
    p = sub.add_parser("normals", help="normal maps: shape/detail split, angular error")
    nsub = p.add_subparsers(dest="normals_command", metavar="ACTION", required=True)

    s = nsub.add_parser("split", help="write the shape and detail parts of a normal map")
    s.add_argument("input", help="normal map (.png .exr .tif .npy .mat)")
    s.add_argument("--sigma", type=positive_float, default=3.0, help="shape low-pass in pixels (default 3)")
    s.add_argument("-o", "--output", required=True, help="output folder (created if missing)")
    s.add_argument("--mask", default=None, help="mask image")
    s.add_argument("--bits", type=int, choices=[8, 16], default=16, help="PNG depth (default 16)")
    s.add_argument("--overwrite", action="store_true", help="replace existing output files")
    _convention_options(s)
    s.set_defaults(func=cmd_split)

    e = nsub.add_parser("error", help="angular error of normal map A against B (degrees)")
    e.add_argument("a", help="estimated normal map")
    e.add_argument("b", help="reference (ground-truth) normal map")
    e.add_argument("--mask", default=None, help="only pixels inside this mask")
    e.add_argument("--region", default=None, help="only the rectangle X,Y,W,H (pixels)")
    e.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _convention_options(e)
    e.set_defaults(func=cmd_error)

    f = sub.add_parser("surface", help="height from a normal map; mesh, depth and a render")
    f.add_argument("input", help="normal map (.png .exr .tif .npy .mat)")
    f.add_argument("--mask", default=None, help="mask image")
    f.add_argument("--K", dest="K", default=None,
                   help="3x3 intrinsics text file (perspective); default: orthographic")
    f.add_argument("--K-scale", dest="K_scale", type=positive_float, default=None,
                   help="the map is this many times the size K was made for (e.g. 4 for an x4 "
                        "SR result of the image K belongs to)")
    f.add_argument("--method", default=None, help="lsq (default), bini, dct or fc")
    f.add_argument("-o", "--output", default=None, help="mesh file (.ply .obj .stl)")
    f.add_argument("--depth", default=None,
                   help=".npy of the depth (perspective, median = --depth-scale) or height "
                        "(orthographic, pixels), float32, NaN outside the mask")
    f.add_argument("--render", default=None, help="PNG of the shaded mesh")
    f.add_argument("--view", default="30,15",
                   help="render view AZIMUTH,ELEVATION in degrees (finite numbers)")
    f.add_argument("--size", type=int_range(16, 8192), default=512, help="render size in pixels (square)")
    f.add_argument("--max-size", type=non_negative_int, default=512,
                   help="longest side of the mesh grid (default 512; 0 = every pixel)")
    f.add_argument("--color", default=None,
                   help="RGB image to colour the mesh, or 'height' for a height colour map")
    f.add_argument("--step", type=positive_float, default=1.0, help="orthographic pixel size")
    f.add_argument("--depth-scale", type=positive_float, default=1.0, help="perspective median depth")
    f.add_argument("--overwrite", action="store_true", help="replace existing output files")
    f.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _convention_options(f)
    f.set_defaults(func=cmd_surface)


def _convention(args: argparse.Namespace):
    # lazy: cv2, scipy; keeps CLI start-up at ~250 ms
    from core.normals import Convention

    return Convention(y_up=not args.y_down, space=args.space)


def _load(path: str, args: argparse.Namespace, mask: str | None = None):
    # lazy: cv2, scipy; keeps CLI start-up at ~250 ms
    from core.io.normals import load_normal_map

    nmap = load_normal_map(path, mask=mask, convention=_convention(args))
    for w in nmap.warnings:
        print(f"warning: {Path(path).name}: {w}", file=sys.stderr)
    return nmap


def cmd_sr_normals(args: argparse.Namespace) -> int:
    """``sr --kind normals``: split (or naive) SR of a normal map."""
    # lazy: cv2, scipy; keeps CLI start-up at ~250 ms
    from core.io.normals import save_normal_map
    from core.normals import super_resolve_normals

    out = Path(args.output)
    check_outputs(args, "output")
    scale = parse_scale(args.scale) if args.scale else None
    size = parse_size(args.size) if args.size else None
    nmap = _load(args.input, args, getattr(args, "mask", None))
    shape_model = args.shape_model or args.model
    detail_model = args.detail_model or args.model
    job = super_resolve_normals(nmap, scale=scale, size=size, sigma=args.sigma,
                                shape_model=shape_model, detail_model=detail_model,
                                method=args.normals_method, options=run_options(args))
    res = run_with_bar(job, desc=f"normals ({args.normals_method})", quiet=args.quiet)
    path = save_normal_map(res.normals, out, overwrite=args.overwrite)
    h, w = res.normals.shape
    models = res.models[0] if res.models[0] == res.models[1] else "/".join(res.models)
    print(f"{path}: {w}x{h} normals ({res.method}, sigma {res.sigma:g}) with {models} "
          f"in {res.seconds:.2f} s", file=sys.stderr)
    for note in res.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def cmd_split(args: argparse.Namespace) -> int:
    # lazy: cv2, scipy; keeps CLI start-up at ~250 ms
    from core.io.normals import load_normal_map, save_normal_map
    from core.normals import angular_error_map, recombine, split

    nmap = _load(args.input, args, args.mask)
    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file; -o must name a folder")
    folder.mkdir(parents=True, exist_ok=True)
    stem = Path(args.input).stem
    paths = {k: folder / f"{stem}_{k}.png" for k in ("shape", "detail")}
    check_outputs(args, extra=paths.values(), folders=("output",))
    parts = split(nmap, args.sigma)
    exact = np.nanmax(angular_error_map(recombine(parts.shape, parts.detail), nmap))
    for key, part in (("shape", parts.shape), ("detail", parts.detail)):
        save_normal_map(part, paths[key], bits=args.bits, overwrite=args.overwrite)
        print(paths[key])
    back = recombine(load_normal_map(paths["shape"]), load_normal_map(paths["detail"]), nmap.mask)
    err = angular_error_map(back, nmap)
    print(f"recombination error: float parts max {exact:.2e} deg; from the {args.bits}-bit files "
          f"mean {np.nanmean(err):.4f} deg, max {np.nanmax(err):.4f} deg", file=sys.stderr)
    return 0


def _region(text: str | None):
    if text is None:
        return None
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--region must be X,Y,W,H in pixels, got {text!r}") from None
    return Region(x, y, w, h)


def cmd_error(args: argparse.Namespace) -> int:
    # lazy: cv2, scipy; keeps CLI start-up at ~250 ms
    from core.io.normals import load_mask
    from core.normals import angular_error_stats

    a = _load(args.a, args)
    b = _load(args.b, args)
    mask = load_mask(args.mask, b.shape) if args.mask else None
    stats = angular_error_stats(a, b, mask=mask, region=_region(args.region))
    if args.json:
        print(json.dumps(stats.as_dict()))
    else:
        print(f"angular error of {Path(args.a).name} against {Path(args.b).name} (degrees; "
              "shares in %)")
        print(stats.table())
    return 0


def _view(text: str) -> tuple[float, float]:
    try:
        az, el = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--view must be AZIMUTH,ELEVATION in degrees, got {text!r}") from None
    if not (np.isfinite(az) and np.isfinite(el)):
        raise InputError(f"--view must be two finite angles in degrees, got {text!r}")
    return az, el


def cmd_surface(args: argparse.Namespace) -> int:
    # lazy: cv2, scipy; keeps CLI start-up at ~250 ms
    from core.io import atomic_path
    from core.io import load as load_image
    from core.io.normals import load_intrinsics
    from core.surface import (DEFAULT_METHOD, METHODS, integrate, mesh_from_surface,
                              render_mesh, save_mesh, scalar_colors, scale_intrinsics)
    from core.surface.meshio import MESH_EXTENSIONS

    outputs = [p for p in (args.output, args.depth, args.render) if p]
    if not outputs:
        raise InputError("nothing to write: give -o mesh.ply, --depth out.npy or --render out.png")
    if args.output and Path(args.output).suffix.lower() not in MESH_EXTENSIONS:
        raise InputError(f"-o must be a mesh file ({' '.join(MESH_EXTENSIONS)}), got {args.output}")
    if args.depth and Path(args.depth).suffix.lower() != ".npy":
        raise InputError(f"--depth must be a .npy file, got {args.depth}")
    if args.render and Path(args.render).suffix.lower() != ".png":
        raise InputError(f"--render must be a .png file, got {args.render}")
    check_outputs(args, "output", "depth", "render")
    if args.render and not 16 <= args.size <= 8192:
        raise InputError(f"--size must be between 16 and 8192 pixels, got {args.size}")
    method = args.method or DEFAULT_METHOD
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    view = _view(args.view)
    if args.max_size == 1:  # checked before any file is written (core refuses it too)
        raise InputError("--max-size must be 0 (every pixel) or at least 2 pixels, got 1")
    nmap = _load(args.input, args, args.mask)
    K = load_intrinsics(args.K) if args.K else None
    if K is not None and args.K_scale is not None:
        if not (args.K_scale > 0 and np.isfinite(args.K_scale)):
            raise InputError(f"--K-scale must be a positive number, got {args.K_scale}")
        K = scale_intrinsics(K, args.K_scale)
    h, w = nmap.shape
    if K is not None and not (0 <= K[0, 2] <= w and 0 <= K[1, 2] <= h):
        raise InputError(f"K's principal point ({K[0, 2]:g}, {K[1, 2]:g}) lies outside the "
                         f"{w}x{h} normal map; is K for this image size?")
    job = integrate(nmap, method=method, K=K, step=args.step, depth_scale=args.depth_scale)
    surf = run_with_bar(job, desc=f"surface ({method})", quiet=args.quiet)
    print(f"{surf.projection} {method}: {int(surf.mask.sum())} pixels in {surf.seconds:.2f} s"
          + (f", {surf.iterations} iterations" if surf.iterations else ""), file=sys.stderr)
    if args.depth:
        values = surf.depth if surf.K is not None else surf.z
        with atomic_path(Path(args.depth), overwrite=args.overwrite) as tmp, open(tmp, "wb") as fh:
            np.save(fh, values.astype(np.float32), allow_pickle=False)
        print(args.depth)
    if args.output or args.render:
        colors = None
        if args.color == "height":
            colors = scalar_colors(surf.z, surf.mask)
        elif args.color:
            img = load_image(args.color)
            if (img.height, img.width) != nmap.shape:
                raise InputError(f"--color image is {img.width}x{img.height} but the normal map "
                                 f"is {nmap.shape[1]}x{nmap.shape[0]}")
            colors = np.clip(img.pixels[..., :3] if img.channels >= 3 else img.pixels, 0, 1)
        mesh = mesh_from_surface(surf, nmap, colors, max_size=args.max_size or None)
        if args.output:
            save_mesh(mesh, args.output, overwrite=args.overwrite)
            print(f"{args.output}: {len(mesh.vertices)} vertices, {len(mesh.triangles)} triangles")
        if args.render:
            # lazy: cv2; keeps CLI start-up at ~250 ms
            import cv2

            rgb = render_mesh(mesh, size=(args.size, args.size), azimuth=view[0],
                              elevation=view[1])
            with atomic_path(Path(args.render), overwrite=args.overwrite) as tmp:
                ok, buf = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
                if not ok:  # pragma: no cover
                    raise InputError(f"could not encode {args.render}")
                Path(tmp).write_bytes(buf.tobytes())
            print(args.render)
    return 0
