"""core/config_values.py: the one set of value checks every config file goes through (training
runs, their IPF losses, MZSR meta-training), and that each config really uses it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from core.config_values import build_section, flag, number, prefixes, read_yaml, section, text
from core.errors import ConfigError
from core.training import config_from_dict, load_config
from core.zeroshot.mzsr import load_mzsr_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("value, rule, message", [
    (True, {}, "must be a number"),             # YAML 'yes'
    ("3", {}, "must be a number"),
    (float("nan"), {}, "must be finite"),
    (float("inf"), {"integer": True}, "must be finite"),   # int(inf) used to raise OverflowError
    (2.5, {"integer": True}, "must be a whole number"),
    (0, {"positive": True}, "must be > 0"),
    (-1, {"minimum": 0}, "must be >= 0"),
    (1.5, {"maximum": 1}, "must be <= 1"),
])
def test_number_refuses_with_the_key_named(value, rule, message) -> None:
    with pytest.raises(ConfigError, match=rf"'a\.key' {message}"):
        number(value, "a.key", **rule)


def test_number_returns_the_kind_asked_for() -> None:
    assert number(48.0, "k", integer=True) == 48 and isinstance(number(48.0, "k", integer=True), int)
    assert isinstance(number(3, "k"), float)
    assert number(0.5, "k", minimum=0, maximum=1) == 0.5


def test_flag_text_section_build_and_prefixes() -> None:
    assert flag(False, "k") is False
    with pytest.raises(ConfigError, match="true or false"):
        flag("no", "k")
    assert text("fp32", "k", ("fp32", "bf16")) == "fp32"
    for bad in ("", "  ", 3, None):
        with pytest.raises(ConfigError, match="non-empty string"):
            text(bad, "k")
    with pytest.raises(ConfigError, match="one of fp32, bf16"):
        text("fp8", "k", ("fp32", "bf16"))
    assert section({}, "train") == {}
    with pytest.raises(ConfigError, match="no 'model' section"):
        section({}, "model", required=True)
    with pytest.raises(ConfigError, match="must be a mapping"):
        section({"model": [1]}, "model")

    @dataclass
    class Part:
        a: int
        b: int = 2

    assert build_section(Part, {"a": 1}, "part") == Part(1, 2)
    with pytest.raises(ConfigError, match=r"unknown key\(s\) in 'part': c \(known: a, b\)"):
        build_section(Part, {"a": 1, "c": 3}, "part")
    with pytest.raises(ConfigError, match="'part' is incomplete"):
        build_section(Part, {}, "part")
    assert prefixes([" tail.0 "], "model.freeze", "encoder") == ["tail.0"]
    with pytest.raises(ConfigError, match="parameter-name prefixes"):
        prefixes("encoder", "model.freeze", "encoder")


def _raw(name: str) -> dict:
    return yaml.safe_load((CONFIGS / name).read_text())


@pytest.mark.parametrize("where, key, value, message", [
    ("train", "steps", float("inf"), "'train.steps' must be finite"),
    ("train", "lr", float("nan"), "'train.lr' must be finite"),
    ("data", "batch_size", True, "'data.batch_size' must be a number"),
    ("data", "augment", "no", "'data.augment' must be true or false"),       # was accepted
    ("train", "channels_last", "x", "'train.channels_last' must be true or false"),
    ("validation", "y_channel", 2, "'validation.y_channel' must be true or false"),
    ("model", "init_partial", "yes", "'model.init_partial' must be true or false"),
])
def test_a_training_config_goes_through_the_rules(where, key, value, message) -> None:
    raw = _raw("edsr_baseline_x2.yaml")
    raw[where][key] = value
    with pytest.raises(ConfigError, match=message):
        config_from_dict(raw, check_paths=False)


@pytest.mark.parametrize("key, value, message", [
    ("gamma_adv", float("inf"), "'train.losses.gamma_adv' must be finite"),   # was accepted
    ("perceptual", -0.1, "'train.losses.perceptual' must be >= 0"),
    ("pixel", "1", "'train.losses.pixel' must be a number"),
    ("hr_patch", 8, "'train.losses.hr_patch' must be >= 16"),
    ("hr_patch", 64, "'train.losses.hr_patch' must be <= 48"),
    ("vgg_layer", "conv5_4", "'train.losses.vgg_layer' must be a number"),  # was int() at start
    ("vgg", 3, "'train.losses.vgg' must be a non-empty string"),
])
def test_ipf_losses_go_through_the_rules(key, value, message) -> None:
    raw = _raw("ipf.yaml")
    raw["train"].setdefault("losses", {})[key] = value
    with pytest.raises(ConfigError, match=message):
        config_from_dict(raw, check_paths=False)
    raw["train"]["losses"][key] = {"hr_patch": 48.0, "vgg_layer": 34.0, "vgg": None}.get(key, 0.5)
    config_from_dict(raw, check_paths=False)   # a whole float is a whole number


@pytest.mark.parametrize("override, message", [
    ({"width": "x"}, "'width' must be a number"),            # each of these was accepted
    ({"meta_lr": float("inf")}, "'meta_lr' must be finite"),
    ({"pretrain_steps": -5}, "'pretrain_steps' must be >= 0"),
    ({"width": 0}, "'width' must be >= 1"),
    ({"depth": 1}, "'depth' must be >= 2"),
    ({"seed": True}, "'seed' must be a number"),
    ({"first_order": "yes"}, "'first_order' must be true or false"),
    ({"sigma_min": 5.0}, "'sigma_min' \\(5.0\\) must be <= 'sigma_max'"),
    ({"anisotropic_p": 2}, "'anisotropic_p' must be <= 1"),
    ({"kernel_size": 14}, "'kernel_size' must be odd"),
    ({"precision": "fp8"}, "'precision' must be one of"),
    ({"train": [3]}, "'train' must be a non-empty string"),
    ({"loss_steps": "1,5"}, "'loss_steps' must be a list"),
    ({"loss_steps": [1.5]}, "'loss_steps' must be a whole number"),
])
def test_an_mzsr_config_goes_through_the_rules(override, message) -> None:
    with pytest.raises(ConfigError, match=message):
        load_mzsr_config(None, **override)


def test_the_bundled_mzsr_config_passes_and_keeps_its_values() -> None:
    cfg = load_mzsr_config(CONFIGS / "mzsr_x2.yaml")
    raw = _raw("mzsr_x2.yaml")
    for key, value in raw.items():
        got = getattr(cfg, key)
        assert (list(got) if isinstance(got, tuple) else got) == value, key
    assert load_mzsr_config(None, hr_patch=64.0).hr_patch == 64


def test_read_yaml_names_the_file_and_what_is_wrong(tmp_path: Path) -> None:
    bad, binary, empty = tmp_path / "bad.yaml", tmp_path / "bin.yaml", tmp_path / "empty.yaml"
    bad.write_text("name: [unclosed\n")
    binary.write_bytes(bytes(range(128, 256)))
    empty.write_text("")
    with pytest.raises(ConfigError, match=r"bad\.yaml is not valid YAML at line 2"):
        read_yaml(bad)
    with pytest.raises(ConfigError, match=r"bin\.yaml is not a text file"):
        read_yaml(binary)
    assert read_yaml(empty) is None
    # both config loaders read through it (a binary file was a UnicodeDecodeError, and a
    # malformed MZSR config a yaml ParserError)
    for load in (load_config, load_mzsr_config):
        with pytest.raises(ConfigError, match="not a text file"):
            load(binary)
        with pytest.raises(ConfigError, match="not valid YAML at line 2"):
            load(bad)
