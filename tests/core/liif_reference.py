"""A straightforward port of the official LIIF inference (``models/liif.py`` query_rgb and
``test.py`` batched_predict), kept as the reference the fast engine must match.

It reuses the parameters of a :class:`core.models.archs.liif.LIIF` module but none of its
query code: the 3x3 feature unfold, the ``grid_sample`` nearest lookups and the full first MLP
layer on every one of the four ensemble queries are done exactly as the official code does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from core.models.contracts import make_coord


def query_rgb(model, feat: Tensor, coord: Tensor, cell: Tensor) -> Tensor:
    """Official ``LIIF.query_rgb`` (output in the model's [-1, 1] space)."""
    if model.feat_unfold:
        feat = F.unfold(feat, 3, padding=1).view(
            feat.shape[0], feat.shape[1] * 9, feat.shape[2], feat.shape[3])
    if model.local_ensemble:
        vx_lst, vy_lst, eps_shift = [-1, 1], [-1, 1], 1e-6
    else:
        vx_lst, vy_lst, eps_shift = [0], [0], 0
    rx = 2 / feat.shape[-2] / 2
    ry = 2 / feat.shape[-1] / 2
    feat_coord = make_coord(feat.shape[-2:], device=feat.device, flatten=False) \
        .permute(2, 0, 1).unsqueeze(0).expand(feat.shape[0], 2, *feat.shape[-2:])
    preds, areas = [], []
    for vx in vx_lst:
        for vy in vy_lst:
            coord_ = coord.clone()
            coord_[:, :, 0] += vx * rx + eps_shift
            coord_[:, :, 1] += vy * ry + eps_shift
            coord_.clamp_(-1 + 1e-6, 1 - 1e-6)
            q_feat = F.grid_sample(feat, coord_.flip(-1).unsqueeze(1), mode="nearest",
                                   align_corners=False)[:, :, 0, :].permute(0, 2, 1)
            q_coord = F.grid_sample(feat_coord, coord_.flip(-1).unsqueeze(1), mode="nearest",
                                    align_corners=False)[:, :, 0, :].permute(0, 2, 1)
            rel_coord = coord - q_coord
            rel_coord[:, :, 0] *= feat.shape[-2]
            rel_coord[:, :, 1] *= feat.shape[-1]
            inp = torch.cat([q_feat, rel_coord], dim=-1)
            if model.cell_decode:
                rel_cell = cell.clone()
                rel_cell[:, :, 0] *= feat.shape[-2]
                rel_cell[:, :, 1] *= feat.shape[-1]
                inp = torch.cat([inp, rel_cell], dim=-1)
            bs, q = coord.shape[:2]
            pred = model.imnet.layers(inp.view(bs * q, -1)).view(bs, q, -1)
            preds.append(pred)
            area = torch.abs(rel_coord[:, :, 0] * rel_coord[:, :, 1])
            areas.append(area + 1e-9)
    tot_area = torch.stack(areas).sum(dim=0)
    if model.local_ensemble:
        areas[0], areas[3] = areas[3], areas[0]
        areas[1], areas[2] = areas[2], areas[1]
    ret = 0
    for pred, area in zip(preds, areas):
        ret = ret + pred * (area / tot_area).unsqueeze(-1)
    return ret


@torch.no_grad()
def batched_predict(model, inp: Tensor, out_hw: tuple[int, int], bsize: int = 30000) -> Tensor:
    """Official ``test.py`` flow: encode, then query all output pixels in chunks of ``bsize``
    (each chunk re-runs the unfold inside ``query_rgb``). ``inp`` in [0, 1]; returns
    ``(1, 3, H, W)`` in [0, 1] (unclamped)."""
    feat = model.encoder((inp - 0.5) / 0.5)
    coord = make_coord(out_hw, device=inp.device)[None]
    cell = torch.ones_like(coord)
    cell[:, :, 0] *= 2 / out_hw[0]
    cell[:, :, 1] *= 2 / out_hw[1]
    n = coord.shape[1]
    preds = []
    ql = 0
    while ql < n:
        qr = min(ql + bsize, n)
        preds.append(query_rgb(model, feat, coord[:, ql:qr, :], cell[:, ql:qr, :]))
        ql = qr
    pred = torch.cat(preds, dim=1) * 0.5 + 0.5
    return pred[0].T.reshape(3, *out_hw)[None]
