"""Scale-out (issue #21): a Ray run gives the same rows as a local one, loses and duplicates
nothing when a worker is killed or the driver interrupted, and without Ray says how to get it.

One local Ray (2 CPUs) is started per module: each start costs seconds."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import core.evaluate
from cli import app as entry
from tests.helpers import ROOT


def _images(folder: Path, n: int = 3) -> Path:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for i in range(n):
        px = cv2.GaussianBlur((rng.random((48 + 8 * i, 56, 3)) * 255).astype(np.uint8),
                              (7, 7), 2)
        cv2.imwrite(str(folder / f"im{i}.png"), px)
    return folder


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install '.[cluster]')")
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 1024 * 1024,
             log_to_driver=False, configure_logging=False,
             job_config=ray.job_config.JobConfig(code_search_path=[str(ROOT)]))
    yield ray
    ray.shutdown()


def _eval(data: Path, csv: Path, *extra: str) -> int:
    return entry.main(["eval", "-m", "bicubic,fsrcnn_x2", "--data", str(data), "--scales", "2",
                       "--csv", str(csv), "-q", *extra])


def test_ray_eval_equals_local_row_for_row(ray_local, tmp_path, capsys):
    data = _images(tmp_path / "hr")
    (data / "broken.png").write_bytes(b"not a png")   # reported with its path; the run goes on
    assert _eval(data, tmp_path / "local.csv") == 2
    local = capsys.readouterr()
    assert _eval(data, tmp_path / "ray.csv", "--executor", "ray", "--workers", "2") == 2
    remote = capsys.readouterr()
    csv_l, csv_r = (tmp_path / "local.csv").read_bytes(), (tmp_path / "ray.csv").read_bytes()
    assert csv_l == csv_r and len(csv_l.splitlines()) == 1 + 2 * 3
    assert local.out == remote.out and "fsrcnn_x2 on" in remote.out
    bad = [ln for ln in remote.err.splitlines() if ln.startswith("error:")]
    assert len(bad) == 2 and all("broken.png" in ln for ln in bad)   # once per model


def test_ray_study_equals_local(ray_local, tmp_path, capsys):
    data = _images(tmp_path / "hr")
    args = ["study", "crop", "--data", str(data), "-m", "bicubic", "fsrcnn_x2", "-s", "2",
            "--margins", "0,4", "--region", "16,16,16", "-q"]
    assert entry.main([*args, "--csv", str(tmp_path / "l.csv")]) == 0
    local_out = capsys.readouterr().out
    assert entry.main([*args, "--csv", str(tmp_path / "r.csv"), "--executor", "ray",
                       "--workers", "2"]) == 0
    assert capsys.readouterr().out == local_out
    assert (tmp_path / "l.csv").read_bytes() == (tmp_path / "r.csv").read_bytes()


def marked_sleep(marks: str, i: int) -> int:
    """A unit that says which process runs it (a file named by its pid), then works a while."""
    Path(marks, f"{os.getpid()}-{i}").touch()
    time.sleep(0.6)
    return i


def test_a_killed_worker_loses_and_duplicates_nothing(ray_local, tmp_path):
    from core.scale import RayExecutor, Unit, run_units
    from core.jobs import run_sync

    marks = tmp_path / "marks"
    marks.mkdir()
    ex = RayExecutor(workers=2)
    units = [Unit(i, f"u{i}", marked_sleep, (str(marks), i)) for i in range(6)]
    got, killed = [], []

    def arrived(out) -> None:
        got.append(out)

    # kill the process that runs the first unit while it runs (its task is retried)
    import threading

    def killer() -> None:
        for _ in range(400):
            found = [p for p in marks.iterdir()]
            if found:
                pid = int(found[0].name.split("-")[0])
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.02)

    t = threading.Thread(target=killer)
    t.start()
    try:
        stats = run_sync(run_units(ex, units, arrived))
    finally:
        t.join()
        ex.close()
    assert killed, "no worker was seen running a unit"
    assert sorted(o.index for o in got) == list(range(6)) and stats.done == 6
    assert [o.error for o in got if o.error] == []
    assert [o.value for o in sorted(got, key=lambda o: o.index)] == list(range(6))
    assert all(o.worker and not o.worker.endswith(f":{killed[0]}") for o in got)


def test_resume_after_interrupt_completes_without_duplicates(ray_local, tmp_path, capsys,
                                                             monkeypatch):
    data = _images(tmp_path / "hr")
    assert _eval(data, tmp_path / "ref.csv") == 0
    ref = (tmp_path / "ref.csv").read_bytes()
    part = tmp_path / "part.csv"
    real, calls = core.evaluate.score_row, []

    def interrupted(sc):
        calls.append(sc)
        if len(calls) == 3:
            raise KeyboardInterrupt   # Ctrl-C while the third row arrives
        return real(sc)

    monkeypatch.setattr(core.evaluate, "score_row", interrupted)
    assert _eval(data, part, "--executor", "ray", "--workers", "2") == 130
    monkeypatch.setattr(core.evaluate, "score_row", real)
    kept = part.read_bytes().splitlines()
    assert len(kept) == 1 + 2 and kept[0] == ref.splitlines()[0]   # header + the 2 rows done
    assert all(row in ref.splitlines() for row in kept)
    with open(part, "ab") as fh:
        fh.write(b"im2.png,2,31.2")   # a row cut off by a killed driver: dropped on resume
    assert _eval(data, part) == 2       # exists: --resume is needed
    assert "--resume" in capsys.readouterr().err
    assert _eval(data, part, "--executor", "ray", "--workers", "2", "--resume") == 0
    assert "resumed 2 rows" in capsys.readouterr().err
    assert part.read_bytes() == ref


def test_without_ray_one_line_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    data = _images(tmp_path / "hr", 1)
    monkeypatch.setitem(sys.modules, "ray", None)   # `import ray` raises ImportError
    rc = _eval(data, tmp_path / "x.csv", "--executor", "ray")
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1
    assert err[0].startswith("error:") and "pip install 'sr-workbench[cluster]'" in err[0]
    assert not (tmp_path / "x.csv").exists()


def test_ray_sr_batch_writes_the_local_files(ray_local, tmp_path, capsys):
    data = _images(tmp_path / "hr", 2)
    args = ["sr", str(data), "-m", "bicubic,fsrcnn_x2", "-s", "2", "-q", "--precision", "fp32"]
    assert entry.main([*args, "-o", str(tmp_path / "l")]) == 0
    assert entry.main([*args, "-o", str(tmp_path / "r"), "--executor", "ray",
                       "--workers", "2"]) == 0
    local = sorted(p.name for p in (tmp_path / "l").iterdir())
    assert len(local) == 4 and local == sorted(p.name for p in (tmp_path / "r").iterdir())
    assert all((tmp_path / "l" / n).read_bytes() == (tmp_path / "r" / n).read_bytes()
               for n in local)


def test_lam_over_a_folder_on_ray_equals_local(ray_local, tmp_path, capsys):
    data = _images(tmp_path / "hr", 2)
    (data / "small.png").write_bytes((data / "im0.png").read_bytes()[:40])   # cut off: bad
    args = ["lam", str(data), "-m", "bicubic", "-s", "2", "--window", "20,20,8", "-q"]
    assert entry.main([*args, "-o", str(tmp_path / "l"), "--csv", str(tmp_path / "l.csv")]) == 2
    local = capsys.readouterr()
    assert entry.main([*args, "-o", str(tmp_path / "r"), "--csv", str(tmp_path / "r.csv"),
                       "--executor", "ray", "--workers", "2"]) == 2
    remote = capsys.readouterr()
    assert "small.png" in local.err and "small.png" in remote.err
    lrows = (tmp_path / "l.csv").read_text().splitlines()
    rrows = (tmp_path / "r.csv").read_text().replace(str(tmp_path / "r"),
                                                     str(tmp_path / "l")).splitlines()
    assert len(lrows) == 3 and lrows == rrows
    assert local.out.replace(str(tmp_path / "l"), "") == remote.out.replace(str(tmp_path / "r"), "")
    for name in ("im0_lam.png", "im1_lam.png"):
        assert (tmp_path / "l" / name).read_bytes() == (tmp_path / "r" / name).read_bytes()


def test_zssr_over_a_folder(tmp_path, capsys):
    data = _images(tmp_path / "hr", 2)
    args = ["zssr", str(data), "-s", "2", "-o", str(tmp_path / "z"), "--iters", "2", "--crop",
            "16", "--no-ensemble", "--bp", "0", "-q"]
    assert entry.main(args) == 0
    assert sorted(p.name for p in (tmp_path / "z").iterdir()) == ["im0_zssr_x2.png",
                                                                  "im1_zssr_x2.png"]
    assert "2 written" in capsys.readouterr().out
    assert entry.main(args) == 0 and "2 skipped" in capsys.readouterr().out
