"""The application layer: what the window, the CLI and batch executors do, without Qt.

Each module is one feature's work as core Jobs and plain data: :mod:`.run` (inputs, SR runs,
metrics), :mod:`.display` (what views show), :mod:`.memory` (will a run fit), :mod:`.analysis`
(LAM, studies), :mod:`.channels` (channel data), :mod:`.normals` and :mod:`.surface` (normal
maps, 3D), :mod:`.zeroshot` (ZSSR/MZSR), :mod:`.zoom` (Live zoom), :mod:`.ipf` (IPF flow).
The layer sits between the front ends (``gui/``, ``cli/``) and the rest of ``core/``: it never
imports Qt, and nothing else in ``core/`` imports it.
"""
