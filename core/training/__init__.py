"""Training: image-folder datasets, the L1/Adam loop as a Job, exact checkpoint resume.

``run_sync(train(load_config("configs/edsr_baseline_x4.yaml")))`` trains EDSR-baseline x4 into
``runs/edsr_baseline_x4/``; the CLI is ``python main.py train CONFIG``.
"""

from .config import TrainConfig, config_from_dict, load_config
from .data import ImageSet, batch_rng, load_images, sample_fixed_batch, sample_query_batch
from .loop import TrainProgress, TrainResult, default_out_dir, train, validate
from .model_init import build_model
from .schedule import make_optimizer, make_scheduler
from .state import export_file, export_weights, load_state, save_state
from .steps import make_batch, train_step

__all__ = [
    "TrainConfig", "config_from_dict", "load_config",
    "ImageSet", "batch_rng", "load_images", "sample_fixed_batch", "sample_query_batch",
    "TrainProgress", "TrainResult", "build_model", "default_out_dir", "make_batch",
    "make_optimizer", "make_scheduler", "train", "train_step", "validate",
    "export_file", "export_weights", "load_state", "save_state",
]
