"""Channel-data commands: ``sr`` on channel matrices, and ``channels info|sample|degrade|compare``.

    python main.py sr H.mat --var H --axes HWC --complex real_imag --norm channel \\
        -m bicubic -s 4 -o H_sr.mat [--rgb-mode groups] [--gt H_hr.mat]
    python main.py channels info H.mat [--var H] [--all]
    python main.py channels sample -o H.npy [--size 256x256x150] [--seed 0]
    python main.py channels degrade H.mat -s 4 -o H_lr.mat
    python main.py channels compare H_sr.mat H_hr.mat [--shave 4]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.budget import MAX_SCALE
from core.channels import (
    COMPLEX_MODES, NORM_MODES, RGB_MODES, array_from_channels, channel_meta, channel_stats,
    check_percentiles, format_stats_table, multipath_channel,
)
from core.errors import InputError

from .options import (finite_float, float_range, int_range, non_negative_int, parse_scale,
                      parse_size, positive_int, run_options, seed)
from .outputs import check_outputs
from .progress import run_with_bar

__all__ = ["add_sr_options", "add_parsers", "wants_channels", "cmd_sr_channels", "load_kwargs"]

#: Most values ``channels sample`` generates (checked before anything is allocated).
MAX_SAMPLE_VALUES = 2**25

_CHANNEL_ONLY = ("axes", "complex", "norm", "percentiles", "var", "rgb_mode", "batch", "gt",
                 "clip", "finetune")


def _add_load_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("channel data (.npy .npz .mat .h5 .hdf5)")
    g.add_argument("--var", default=None,
                   help="variable / dataset / .npz key (MATLAB paths like csi.csi into cells and "
                        "structs); default: the largest usable array")
    g.add_argument("--axes", default=None,
                   help="one letter per array axis: H, W once each, C for channel axes, e.g. HWC, "
                        "CHW, HWCC (default: H x W first, the rest channels, as in MATLAB)")
    g.add_argument("--complex", default=None, choices=COMPLEX_MODES,
                   help="how complex data becomes channels (default real_imag)")
    g.add_argument("--norm", default=None, choices=NORM_MODES,
                   help="per-channel min-max like imagesc (default), global, or percentile")
    g.add_argument("--percentiles", default=None,
                   help="robust range for --norm percentile, LOW,HIGH in percent (default 1,99); "
                        "given alone it implies --norm percentile")


def add_sr_options(p: argparse.ArgumentParser) -> None:
    """The channel options of ``sr`` (they imply ``--kind channels``)."""
    _add_load_options(p)
    g = p.add_argument_group("channel SR")
    g.add_argument("--rgb-mode", default=None, choices=RGB_MODES,
                   help="RGB models: replicate each channel to 3 and average (default) or run "
                        "groups of 3 consecutive channels")
    g.add_argument("--batch", type=positive_int, default=None,
                   help="channels per model call (default: auto)")
    g.add_argument("--clip", action="store_true", default=None,
                   help="clip each SR channel to its input range")
    g.add_argument("--finetune", type=non_negative_int, default=None, metavar="STEPS",
                   help="first fine-tune the model on the input's own channels for STEPS steps "
                        "(LR made by bicubic degradation; L1, Adam)")
    g.add_argument("--finetune-lr", type=float_range(0, 1, low_open=True), default=1e-4, help="Adam learning rate (1e-4)")
    g.add_argument("--gt", default=None,
                   help="ground-truth file (same layout): print NMSE (dB) and PSNR per channel")


def load_kwargs(args: argparse.Namespace) -> dict:
    """The keyword arguments of :func:`core.io.channels.load_channels` from the channel options."""
    kw: dict = {"var": getattr(args, "var", None), "axes": getattr(args, "axes", None),
                "complex_mode": getattr(args, "complex", None) or "real_imag",
                "norm": getattr(args, "norm", None) or "channel"}
    text = getattr(args, "percentiles", None)
    if text is not None:
        try:
            lo, hi = (float(v) for v in text.split(","))
            kw["percentiles"] = check_percentiles((lo, hi))
        except (ValueError, InputError):
            raise InputError(f"--percentiles must be LOW,HIGH in percent with 0 <= LOW < HIGH "
                             f"<= 100, e.g. 1,99, got {text!r}") from None
        # --percentiles alone means --norm percentile; with another --norm it would do nothing
        if getattr(args, "norm", None) is None:
            kw["norm"] = "percentile"
        elif kw["norm"] != "percentile":
            raise InputError(f"--percentiles applies to --norm percentile only, not --norm "
                             f"{kw['norm']}")
    return kw


def wants_channels(args: argparse.Namespace) -> bool:
    """Whether ``sr`` should treat its input as channel data."""
    # lazy: cv2; keeps CLI start-up at ~250 ms
    from core.io.channels import CHANNEL_EXTENSIONS, npy_is_channel_data

    if getattr(args, "kind", None) == "channels":
        return True
    for name in _CHANNEL_ONLY:  # identity: 0 == False, and --batch 0 is given (and refused)
        value = getattr(args, name, None)
        if value is not None and value is not False:
            return True
    p = Path(args.input)
    ext = p.suffix.lower()
    if ext in CHANNEL_EXTENSIONS and ext != ".npy":
        return True
    return ext == ".npy" and p.is_file() and npy_is_channel_data(p)


def cmd_sr_channels(args: argparse.Namespace) -> int:
    # lazy: torch, cv2; keeps CLI start-up at ~250 ms
    from core.channels import channel_scores, format_scores, super_resolve_channels
    from core.io.channels import load_channels, save_channels
    from core.models import default_model_name, load_model

    if args.kind not in (None, "channels"):
        raise InputError(f"channel options need --kind channels, not {args.kind!r}")
    inp, out = Path(args.input), Path(args.output)
    check_outputs(args, "output")
    if args.batch is not None and args.batch < 1:
        raise InputError(f"--batch must be at least 1, got {args.batch}")
    scale = parse_scale(args.scale) if args.scale else None
    size = parse_size(args.size) if args.size else None
    kw = load_kwargs(args)
    data = load_channels(inp, **kw)
    gt = load_channels(Path(args.gt), **kw) if args.gt else None
    described = _describe(data, inp, show=False)  # printed once it worked: one error line
    loaded = load_model(args.model or default_model_name())
    module = loaded.module
    if args.finetune:
        # lazy: torch, cv2; keeps CLI start-up at ~250 ms
        from core.channels import FinetuneOptions, finetune_channels

        opts = FinetuneOptions(steps=args.finetune, learning_rate=args.finetune_lr,
                               rgb_mode=args.rgb_mode or "replicate")
        tuned = run_with_bar(finetune_channels(module, data, opts), desc="fine-tune",
                             quiet=args.quiet)
        module = tuned.model
        print(f"fine-tuned {loaded.name} for {args.finetune} steps in {tuned.seconds:.1f} s: "
              f"L1 {tuned.losses[0]:.4f} -> {tuned.losses[-1]:.4f}", file=sys.stderr)
    job = super_resolve_channels(module, data, scale=scale, size=size,
                                 rgb_mode=args.rgb_mode or "replicate", batch=args.batch,
                                 clip=bool(args.clip), options=run_options(args), name=loaded.name)
    result = run_with_bar(job, desc=loaded.name, quiet=args.quiet)
    path = save_channels(result.image, out, overwrite=args.overwrite)
    img = result.image
    print(described, file=sys.stderr)
    print(f"{path}: {img.height}x{img.width}x{img.channels} channels (H x W x C) with "
          f"{loaded.name} on {result.device} ({result.precision}) in {result.seconds:.2f} s",
          file=sys.stderr)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if gt is not None:
        print(format_scores(channel_scores(img, gt), limit=None))
    return 0


def _describe(data, path: Path, show: bool = True) -> str:
    """One line on what was loaded and how (printed to stderr with ``show``)."""
    info = channel_meta(data)
    lay = info.layout
    var = data.meta.get("var")
    bad = info.nonfinite.count if info.nonfinite is not None else 0
    line = (f"{path.name}{f' [{var}]' if var else ''}: {'x'.join(map(str, lay.shape))} "
            f"{lay.dtype}, axes {lay.axes} -> {data.height}x{data.width}x{data.channels} "
            f"channels{f' ({lay.complex_mode})' if lay.complex_mode != 'none' else ''}, norm "
            f"{info.norm}{f', {bad} NaN/Inf masked' if bad else ''}")
    if show:
        print(line, file=sys.stderr)
    return line


def add_parsers(sub) -> None:
    """Register ``channels`` with its subcommands."""
    p = sub.add_parser("channels", help="channel-data matrices: info, sample, degrade, compare")
    csub = p.add_subparsers(dest="channels_command", metavar="ACTION")
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])

    q = csub.add_parser("info", help="variables, layout and the per-channel range table")
    q.add_argument("input")
    q.add_argument("--all", action="store_true", help="show every channel (default: 40)")
    _add_load_options(q)
    q.set_defaults(func=cmd_info)

    q = csub.add_parser("sample", help="write a synthetic multipath channel (seeded)")
    q.add_argument("-o", "--output", required=True, help=".npy .npz .mat or .h5 file")
    q.add_argument("--size", default="256x256x150",
                   help="SUBCARRIERSxSNAPSHOTSxANTENNAS (H x W x C), default 256x256x150")
    q.add_argument("--seed", type=seed, default=0, help="random seed, 0 <= SEED < 2**32 (0)")
    q.add_argument("--paths", type=int_range(1, 10000), default=24, help="scattered paths")
    q.add_argument("--snr", type=finite_float, default=None, help="add white noise at this SNR (dB)")
    q.add_argument("--domain", choices=["frequency", "delay"], default="frequency")
    q.add_argument("--var", default="H", help="variable name in .npz/.mat/.h5 (default H)")
    q.add_argument("--overwrite", action="store_true")
    q.set_defaults(func=cmd_sample)

    q = csub.add_parser("degrade", help="the bicubic LR of a channel file (same format)")
    q.add_argument("input")
    q.add_argument("-s", "--scale", type=float_range(1, MAX_SCALE), required=True, help="factor >= 1, e.g. 4")
    q.add_argument("-o", "--output", required=True)
    q.add_argument("--overwrite", action="store_true")
    _add_load_options(q)
    q.set_defaults(func=cmd_degrade)

    q = csub.add_parser("compare", help="NMSE (dB, own units) and PSNR of SR against GT")
    q.add_argument("sr")
    q.add_argument("gt")
    q.add_argument("--shave", type=non_negative_int, default=0, help="border pixels to ignore")
    q.add_argument("--all", action="store_true", help="show every channel (default: 20)")
    _add_load_options(q)
    q.set_defaults(func=cmd_compare)


def cmd_info(args: argparse.Namespace) -> int:
    # lazy: cv2; keeps CLI start-up at ~250 ms
    from core.io.channels import list_variables, load_channels

    print("variables:")
    for v in list_variables(args.input):
        print(f"  {'*' if v.usable else ' '} {v.describe()}")
    data = load_channels(args.input, **load_kwargs(args))
    _describe(data, Path(args.input))
    print(format_stats_table(channel_stats(data), limit=None if args.all else 40))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    # lazy: cv2; keeps CLI start-up at ~250 ms
    from core.io.channels import write_array

    try:
        sizes = tuple(int(v) for v in args.size.lower().split("x"))
    except ValueError:
        sizes = ()
    if len(sizes) != 3 or min(sizes) < 1:
        raise InputError(f"--size must be HxWxC, e.g. 256x256x150, got {args.size!r}")
    if sizes[0] * sizes[1] * sizes[2] > MAX_SAMPLE_VALUES:
        raise InputError(f"--size {args.size} asks for {sizes[0] * sizes[1] * sizes[2]} complex "
                         f"values; at most {MAX_SAMPLE_VALUES} (256 MiB as complex64)")
    check_outputs(args, "output")
    ch = multipath_channel(*sizes, paths=args.paths, snr_db=args.snr, domain=args.domain,
                           seed=args.seed)
    path = write_array(ch.h, args.output, var=args.var, overwrite=args.overwrite)
    print(f"{path}: {'x'.join(map(str, ch.h.shape))} complex64 multipath channel "
          f"({len(ch.delays)} paths, seed {args.seed}, {args.domain} domain)", file=sys.stderr)
    return 0


def cmd_degrade(args: argparse.Namespace) -> int:
    # lazy: cv2, scipy; keeps CLI start-up at ~250 ms
    from core.channels import degrade_channels
    from core.io._common import check_output
    from core.io.channels import array_source, load_channels, write_array

    check_outputs(args, "output")
    data = load_channels(args.input, **load_kwargs(args))
    out = Path(args.output)
    check_output(out, data, overwrite=args.overwrite, allow_input_overwrite=False)
    lr = degrade_channels(data, args.scale)
    path = write_array(array_from_channels(lr), out, like=array_source(data),
                       overwrite=args.overwrite)
    print(f"{path}: {lr.height}x{lr.width}x{lr.channels} channels (LR x{args.scale:g})",
          file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    # lazy: cv2, scipy; keeps CLI start-up at ~250 ms
    from core.channels import channel_scores, format_scores
    from core.io.channels import load_channels

    kw = load_kwargs(args)
    scores = channel_scores(load_channels(args.sr, **kw), load_channels(args.gt, **kw),
                            shave=args.shave)
    print(format_scores(scores, limit=None if args.all else 20))
    return 0
