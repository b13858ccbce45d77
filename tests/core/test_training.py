"""Training: configs, batches, loss going down, exact resume, cancel, batch workers
(export and the CLI: test_training_export.py).

Everything runs on tiny models and a few random PNGs written to ``tmp_path`` (seconds, CPU).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch

from core.errors import ConfigError, SRWError
from core.jobs import run_sync
from core.resize import degrade
from core.training import (batch_rng, build_model, config_from_dict, load_config, load_images,
                           make_optimizer, make_scheduler, sample_fixed_batch,
                           sample_query_batch, train, train_step)
from core.training.loop import TrainProgress
from core.training import prefetch
from core.training.prefetch import batches, fork_available
from core.training.steps import input_flags
from core.training.state import load_state
from core.zeroshot.mzsr import load_mzsr_config
from tests.core.training_setup import edsr_cfg, liif_cfg

ROOT = Path(__file__).resolve().parents[2]


# tiny models on a shared 2-core CPU: one torch thread (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --- configs -----------------------------------------------------------------------------

def test_bundled_configs_are_valid() -> None:
    for path in sorted((ROOT / "configs").glob("*.yaml")):  # every shipped config validates
        if path.name.startswith("mzsr"):
            assert load_mzsr_config(path).scale >= 2  # MZSR's meta-training has its own format
        else:
            assert load_config(path, check_paths=False).data.batch_size >= 1, path.name
    for name in ("liif_edsr_baseline", "edsr_baseline_x2", "edsr_baseline_x3", "edsr_baseline_x4",
                 "edsr_baseline_x4_from_x2", "edsr_baseline_x3_from_x2"):
        cfg = load_config(ROOT / "configs" / f"{name}.yaml", check_paths=False)
        assert cfg.name == name and cfg.data.batch_size >= 1
        build_model(cfg)  # the model section builds (from_x2: the bundled x2 loads partially)


def test_config_errors_are_readable(folders: dict[str, Path], tmp_path: Path) -> None:
    raw = edsr_cfg(folders)
    raw["model"]["arch"] = "srgan9000"
    with pytest.raises(ConfigError, match="unknown model arch 'srgan9000'"):
        config_from_dict(raw)
    raw = edsr_cfg(folders)
    raw["data"]["train"] = [str(tmp_path / "nowhere")]
    with pytest.raises(ConfigError, match=r"data.train\[0\].*nowhere.*does not exist"):
        config_from_dict(raw)
    raw = edsr_cfg(folders)
    raw["train"]["lr"] = "fast"
    with pytest.raises(ConfigError, match="'train.lr' must be a number"):
        config_from_dict(raw)
    raw = edsr_cfg(folders)
    raw["train"]["learning_rate"] = 1e-4
    with pytest.raises(ConfigError, match="unknown key.*learning_rate"):
        config_from_dict(raw)
    raw = edsr_cfg(folders, loss="huber")
    with pytest.raises(ConfigError, match="'train.loss' must be one of l1, mse"):
        config_from_dict(raw)
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    assert issubclass(ConfigError, SRWError)


# --- batches -----------------------------------------------------------------------------

def test_fixed_batch_is_the_benchmark_degradation(folders: dict[str, Path]) -> None:
    images = load_images([folders["train"]])
    b = sample_fixed_batch(images, batch_rng(0, 7), 3, 12, 2)
    assert b.lr.shape == (3, 3, 12, 12) and b.hr.shape == (3, 3, 24, 24)
    hr = b.hr[1].permute(1, 2, 0).numpy()
    lr = np.round(np.clip(degrade(hr, 2), 0, 1) * 255) / 255
    np.testing.assert_array_equal(lr, b.lr[1].permute(1, 2, 0).numpy())
    again = sample_fixed_batch(images, batch_rng(0, 7), 3, 12, 2)
    assert torch.equal(again.hr, b.hr)  # seeded per step
    assert not torch.equal(sample_fixed_batch(images, batch_rng(0, 8), 3, 12, 2).hr, b.hr)


def test_query_batch_points_are_hr_pixel_centres(folders: dict[str, Path]) -> None:
    images = load_images([folders["train"]])
    b = sample_query_batch(images, batch_rng(1, 0), 2, 12, 1.0, 4.0, 100)
    crop = int(round(12 * b.scale))
    assert b.lr.shape == (2, 3, 12, 12) and b.coord.shape == b.cell.shape == (2, 100, 2)
    assert b.gt.shape == (2, 100, 3) and 0 <= float(b.gt.min()) <= float(b.gt.max()) <= 1
    pix = (b.coord + 1) * crop / 2 - 0.5  # pixel index of each query: whole numbers
    assert torch.allclose(pix, pix.round(), atol=1e-4)
    assert torch.allclose(b.cell, torch.full_like(b.cell, 2 / crop))
    flat = (pix[..., 0].round() * crop + pix[..., 1].round()).long()
    assert all(len(set(row.tolist())) == 100 for row in flat)  # no repeated points


# --- training ----------------------------------------------------------------------------

@pytest.mark.parametrize("make", [edsr_cfg, liif_cfg])
@pytest.mark.parametrize("loss", ["l1", "mse"])
def test_train_loss_is_the_configured_pixel_loss(make, loss: str,
                                                 folders: dict[str, Path]) -> None:
    """The loss a step reports is L1 or MSE of this batch's prediction, times loss_scale."""
    from core.training import make_batch

    cfg = config_from_dict(make(folders, precision="fp32", loss=loss))
    batch = make_batch(cfg, load_images([folders["train"]]), 0)
    torch.manual_seed(0)
    model, _ = build_model(cfg)
    model.train()
    with torch.no_grad():
        if hasattr(batch, "coord"):
            pred, target = model(batch.lr, batch.coord, batch.cell), batch.gt
        else:
            pred, target = model(batch.lr), batch.hr
    err = pred.float() - target
    want = float((err.abs() if loss == "l1" else err ** 2).mean()) * cfg.train.loss_scale
    got = train_step(model, make_optimizer(cfg, model), batch, cfg, None)
    assert got == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("make", [edsr_cfg, liif_cfg])
def test_loss_decreases_on_a_fixed_batch(make, folders: dict[str, Path]) -> None:
    torch.manual_seed(0)
    cfg = config_from_dict(make(folders, precision="fp32"))
    images = load_images([folders["train"]])
    from core.training import make_batch

    batch = make_batch(cfg, images, 0)
    model, _ = build_model(cfg)
    model.train()
    opt = make_optimizer(cfg, model)
    losses = [train_step(model, opt, batch, cfg, None) for _ in range(40)]
    assert losses[-1] < 0.75 * losses[0], losses


def test_fast_liif_query_gradients_match_official(folders: dict[str, Path]) -> None:
    from tests.core.liif_reference import query_rgb

    cfg = config_from_dict(liif_cfg(folders))
    torch.manual_seed(0)
    model, _ = build_model(cfg)
    batch = sample_query_batch(load_images([folders["train"]]), batch_rng(0, 1), 2, 12, 1, 4, 50)
    grads = []
    for fast in (True, False):
        model.zero_grad()
        feat = model.encode(batch.lr)
        pred = (model.query(feat, batch.coord, batch.cell) if fast
                else query_rgb(model, feat, batch.coord, batch.cell) * 0.5 + 0.5)
        (pred - batch.gt).abs().mean().backward()
        grads.append([p.grad.clone() for p in model.parameters() if p.grad is not None])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def _final_state(run: Path) -> dict:
    return load_state(run / "last.pt")


@pytest.mark.parametrize("make", [edsr_cfg, liif_cfg])
def test_cancel_then_resume_is_bit_identical(make, folders: dict[str, Path],
                                             tmp_path: Path) -> None:
    cfg = config_from_dict(make(folders))
    full = run_sync(train(cfg, tmp_path / "full"))
    assert full.step == 6 and full.best is not None

    # interrupted run: cancel (close the job) after step 3, then resume to step 6
    job = train(cfg, tmp_path / "split")
    for p in job:
        if isinstance(p, TrainProgress) and p.done == 3 and p.event != "setup":
            job.close()  # the GUI's cancel: last.pt is written on the way out
            break
    assert _final_state(tmp_path / "split")["step"] == 3
    with pytest.raises(ConfigError, match="--resume"):
        run_sync(train(cfg, tmp_path / "split"))
    resumed = run_sync(train(cfg, tmp_path / "split", resume=True))
    assert resumed.step == 6

    a, b = _final_state(tmp_path / "full"), _final_state(tmp_path / "split")
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    sa, sb = a["optimizer"]["state"], b["optimizer"]["state"]
    for i in sa:
        assert torch.equal(sa[i]["exp_avg_sq"], sb[i]["exp_avg_sq"])
    assert a["scheduler"] == b["scheduler"] and a["best_psnr"] == b["best_psnr"]
    log = (tmp_path / "split" / "log.csv").read_text().splitlines()
    full_log = (tmp_path / "full" / "log.csv").read_text().splitlines()
    assert [r.split(",")[:4] for r in log] == [r.split(",")[:4] for r in full_log]


def _multistep(folders: dict[str, Path], steps: int, milestones: list[int]) -> dict:
    return edsr_cfg(folders, steps=steps,
                     schedule={"type": "multistep", "milestones": milestones, "gamma": 0.5})


def test_resume_with_a_schedule_shortened_ahead_equals_a_run_with_it(folders: dict[str, Path],
                                                                     tmp_path: Path) -> None:
    """A run planned for 8 steps (milestones 5, 7), stopped at 3 and resumed with 6 steps
    (milestones 4, 5): every step trained so far had lr 1e-3 under both, so the result is
    the 6-step run's, bit for bit; its config.yaml and log say so."""
    short = config_from_dict(_multistep(folders, 6, [4, 5]))
    full = run_sync(train(short, tmp_path / "short"))
    assert full.step == 6

    planned = config_from_dict(_multistep(folders, 8, [5, 7]))
    run_sync(train(planned, tmp_path / "split", steps=3))
    notes = [p.message for p in train(short, tmp_path / "split", resume=True)
             if isinstance(p, TrainProgress) and p.event == "setup"]
    assert any("schedule changed on resume at step 3" in n and "steps 8 -> 6" in n
               for n in notes), notes
    a, b = _final_state(tmp_path / "short"), _final_state(tmp_path / "split")
    assert b["step"] == 6
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    assert a["scheduler"] == b["scheduler"]
    assert [g["lr"] for g in a["optimizer"]["param_groups"]] == \
        [g["lr"] for g in b["optimizer"]["param_groups"]] == [2.5e-4]
    assert "milestones:\n    - 4\n    - 5" in (tmp_path / "split" / "config.yaml").read_text()


def test_resume_refuses_a_schedule_that_rewrites_trained_steps(folders: dict[str, Path],
                                                               tmp_path: Path) -> None:
    """Milestone 2 lies behind step 3: the run would not be the new config's run."""
    run_sync(train(config_from_dict(_multistep(folders, 8, [5, 7])), tmp_path / "r", steps=3))
    before = (tmp_path / "r" / "last.pt").read_bytes()
    with pytest.raises(ConfigError, match="after step 2 was 1.000e-03, it would be 5.000e-04"):
        run_sync(train(config_from_dict(_multistep(folders, 6, [2, 5])), tmp_path / "r",
                       resume=True))
    assert (tmp_path / "r" / "last.pt").read_bytes() == before
    assert "- 7" in (tmp_path / "r" / "config.yaml").read_text()


def test_lr_history_follows_the_schedule() -> None:
    from core.training.config import OptimConfig
    from core.training.schedule import lr_history

    cfg = OptimConfig(steps=6, lr=1.0, schedule={"type": "multistep", "milestones": [2, 4],
                                                   "gamma": 0.5})
    assert lr_history(cfg, 5) == [1.0, 0.5, 0.5, 0.25, 0.25]


@pytest.mark.skipif(not fork_available(), reason="batch workers need the fork start method")
@pytest.mark.parametrize("make", [edsr_cfg, liif_cfg])
def test_batch_workers_give_the_same_run(make, folders: dict[str, Path], tmp_path: Path) -> None:
    """--workers N makes the batches in other processes: the batches, hence the weights, are
    those of a run without workers; cancelling mid-run stops the workers and saves last.pt."""
    cfg = config_from_dict(make(folders))
    images = load_images([folders["train"]])
    ahead = list(batches(cfg, images, 2, 6, None if cfg.model.arbitrary else input_flags(cfg),
                         workers=2))
    inline = list(batches(cfg, images, 2, 6, None if cfg.model.arbitrary else input_flags(cfg)))
    assert len(ahead) == len(inline) == 4
    for a, b in zip(ahead, inline):
        for name in vars(a):
            x, y = getattr(a, name), getattr(b, name)
            assert torch.equal(x, y) if isinstance(x, torch.Tensor) else x == y, name

    run_sync(train(cfg, tmp_path / "plain"))
    job = train(cfg, tmp_path / "workers", workers=2)
    for p in job:
        if isinstance(p, TrainProgress) and p.done == 3 and p.event != "setup":
            job.close()
            break
    assert _final_state(tmp_path / "workers")["step"] == 3
    run_sync(train(cfg, tmp_path / "workers", resume=True, workers=2))
    a, b = _final_state(tmp_path / "plain"), _final_state(tmp_path / "workers")
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    with pytest.raises(ConfigError, match="workers"):
        run_sync(train(cfg, tmp_path / "bad", workers=-1))


@pytest.mark.skipif(not fork_available(), reason="batch workers need the fork start method")
def test_stopping_batch_workers_early_lets_the_batches_in_flight_arrive(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Closing the feed after one batch must not stop a worker with a batch in flight (its
    tensors come back as descriptors fetched from the worker; a worker gone first killed the
    pool's result thread, a CI failure): every batch asked for is made, then the pool closes."""
    made = tmp_path / "made"

    def slow_batch(cfg, images, step, flags):  # forked workers inherit this patch
        time.sleep(0.2)
        with open(made, "a") as fh:
            fh.write(f"{step}\n")
        return torch.full((2, 3, 8, 8), float(step))

    monkeypatch.setattr(prefetch, "make_batch", slow_batch)
    feed = batches(None, None, 0, 100, None, workers=2)  # type: ignore[arg-type]
    assert torch.equal(next(feed), torch.zeros(2, 3, 8, 8))
    feed.close()
    steps = sorted(int(line) for line in made.read_text().split())
    assert steps == list(range(len(steps))) and len(steps) >= 4  # 1 consumed + 2 * 2 ahead


@pytest.mark.skipif(not fork_available(), reason="batch workers need the fork start method")
def test_a_batch_that_does_not_arrive_in_time_stops_the_workers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker stuck on a batch past the drain limit is terminated: closing returns soon and
    raises nothing, and the stuck batch is never finished."""
    made = tmp_path / "made"

    def stuck_batch(cfg, images, step, flags):
        time.sleep(0.1 if step == 0 else 30.0)
        with open(made, "a") as fh:
            fh.write(f"{step}\n")
        return torch.zeros(1)

    monkeypatch.setattr(prefetch, "make_batch", stuck_batch)
    monkeypatch.setattr(prefetch, "_DRAIN_SECONDS", 0.5)
    feed = batches(None, None, 0, 100, None, workers=2)  # type: ignore[arg-type]
    next(feed)
    t0 = time.monotonic()
    feed.close()
    assert time.monotonic() - t0 < 10.0
    assert made.read_text().split() == ["0"]


def test_scheduler_halves_the_learning_rate(folders: dict[str, Path]) -> None:
    cfg = config_from_dict(edsr_cfg(folders))
    model, _ = build_model(cfg)
    opt = make_optimizer(cfg, model)
    sched = make_scheduler(cfg, opt)
    lrs = []
    for _ in range(8):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:4] == [1e-3] * 4 and lrs[4:] == [5e-4] * 4
