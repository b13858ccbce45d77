"""Channel data: scientific matrices (e.g. 256 x 256 x 150 wireless channels, real or complex)
as stacks of single-channel images, their super-resolution and its evaluation.

One module per responsibility:

* :mod:`.layout` -- which array axes are H, W and channels (default ``H x W x C``), folding of
  several channel axes, the complex split (pure numpy);
* :mod:`.norm` -- per-channel ranges (``imagesc``), non-finite masking, statistics (pure numpy);
* :mod:`.arrays` -- array <-> :class:`~core.data.ImageData` of kind ``channels`` and the exact
  way back (:class:`ChannelMeta` in ``meta["channels"]``);
* :mod:`.stats` -- what the channel browser shows: range table, histograms, complex views;
* :mod:`.multipath` -- a seeded synthetic multipath channel (sample data, tests, benchmarks);
* :mod:`.eval` -- the benchmark degradation of channel data and per-channel PSNR / NMSE;
* :mod:`.sr` -- every channel through any registry model, on the engine (:mod:`core.engine`);
* :mod:`.finetune` -- fine-tuning a model on the channel data itself.

The last three need torch or scipy; their names are loaded on first use, so
``import core.channels`` (and :mod:`core.io`, which reads channel files) stays numpy-only.
"""

from __future__ import annotations

from ..lazy import lazy_names
from .arrays import (
    ChannelMeta, array_from_channels, channel_meta, channel_values, channels_from_array,
    component_values, folded_values, renormalise,
)
from .layout import (
    COMPLEX_MODES, RGB_MODES, ChannelLayout, check_array, default_axes, resolve_axes,
)
from .multipath import SPEED_OF_LIGHT, MultipathChannel, multipath_channel, sample_channels
from .norm import (NORM_MODES, ChannelStats, NonFinite, channel_ranges, check_percentiles,
                   histogram)
from .stats import (
    VIEW_PARTS, channel_histogram, channel_labels, channel_stats, channel_view, folded_labels,
    format_stats_table,
)

# lazy: loaded on first access, so `import core.channels` (core.io, the CLI's start-up) needs
# numpy only: sr and finetune import torch, eval imports scipy (through core.resize)
_LAZY_NAMES = {
    "ChannelScores": "eval", "channel_scores": "eval", "degrade_channels": "eval",
    "format_scores": "eval",
    "ChannelPlan": "sr", "plan_channels": "sr", "super_resolve_channels": "sr",
    "FinetuneOptions": "finetune", "FinetuneResult": "finetune", "finetune_channels": "finetune",
}

__all__ = [
    # layout and normalisation
    "COMPLEX_MODES", "NORM_MODES", "RGB_MODES", "ChannelLayout", "default_axes", "resolve_axes",
    "check_array", "NonFinite", "channel_ranges", "check_percentiles",
    # array <-> channel data
    "ChannelMeta", "channels_from_array", "array_from_channels", "channel_meta",
    "component_values", "renormalise", "channel_values", "folded_values",
    # statistics and views
    "ChannelStats", "VIEW_PARTS", "channel_stats", "channel_histogram", "channel_view",
    "channel_labels", "folded_labels", "format_stats_table", "histogram",
    # sample data
    "SPEED_OF_LIGHT", "MultipathChannel", "multipath_channel", "sample_channels",
    # evaluation
    "ChannelScores", "channel_scores", "degrade_channels", "format_scores",
    # SR and fine-tuning (torch)
    "ChannelPlan", "plan_channels", "super_resolve_channels",
    "FinetuneOptions", "FinetuneResult", "finetune_channels",
]


__getattr__, __dir__ = lazy_names(__name__, _LAZY_NAMES, __all__)
