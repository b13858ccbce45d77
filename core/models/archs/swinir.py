"""SwinIR (Liang et al., ICCV-W 2021) with the parameter names of JingyunLiang/SwinIR.

Keys (``network_swinir.py``): ``conv_first``, ``patch_embed.norm``,
``layers.{i}.residual_group.blocks.{j}.{norm1, attn.qkv, attn.proj,
attn.relative_position_bias_table, attn.relative_position_index, norm2, mlp.fc1, mlp.fc2}``,
``layers.{i}.conv`` (``1conv``) or ``layers.{i}.conv.{0,2,4}`` (``3conv``), ``norm``,
``conv_after_body``, then per upsampler: ``pixelshuffle`` (classical SR:
``conv_before_upsample.0``, ``upsample.{0,2,..}``, ``conv_last``), ``pixelshuffledirect``
(lightweight SR: ``upsample.0`` only), ``nearest+conv`` (real-world x4: ``conv_up1``,
``conv_up2``, ``conv_hr``, ``conv_last``) or none (scale 1: ``conv_last``). Official
checkpoints keep the weights under ``params`` or ``params_ema`` (the loader unwraps them).

The shifted-window ``attn_mask`` buffers of the official code depend on the input size: here
they are computed per input size (and cached), and the official files' ``attn_mask`` entries
are dropped when loading. The input must be a multiple of the window: the engine pads
(``window``), and :meth:`SwinIR.forward` reflect-pads any remainder itself, as the official
test script does. ``img_range`` 1 with the DIV2K mean subtracted (RGB), as the official code.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..contracts import FixedScaleSR
from ..spec import ArchSpec, StateDict, count_seq, indices, shape_of
from .common import DIV2K_RGB_MEAN

__all__ = ["SwinIR", "detect_swinir", "SPEC", "UPSAMPLERS"]

UPSAMPLERS = ("pixelshuffle", "pixelshuffledirect", "nearest+conv", "")


def _partition(x: Tensor, w: int) -> Tensor:
    """``(B, H, W, C)`` -> ``(B * nW, w * w, C)`` windows in row-major order."""
    b, h, wd, c = x.shape
    x = x.view(b, h // w, w, wd // w, w, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, w * w, c)


def _reverse(windows: Tensor, w: int, h: int, wd: int) -> Tensor:
    b = windows.shape[0] // ((h // w) * (wd // w))
    x = windows.view(b, h // w, wd // w, w, w, -1).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h, wd, -1)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


class WindowAttention(nn.Module):
    """Multi-head self-attention inside ``w x w`` windows with a relative position bias."""

    def __init__(self, dim: int, window: int, num_heads: int, qkv_bias: bool = True):
        super().__init__()
        self.window, self.num_heads = window, num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window - 1) ** 2, num_heads))
        coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window),
                                            indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
        index = rel[..., 0] * (2 * window - 1) + rel[..., 1]
        self.register_buffer("relative_position_index", index)
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # type: ignore[override]
        # a constant: fill it when a checkpoint leaves it out
        state_dict.setdefault(prefix + "relative_position_index",
                              self.relative_position_index.clone())
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        b_, n, c = x.shape
        qkv = self.qkv(x).reshape(b_, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        attn = attn + bias.view(n, n, -1).permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(b_ // nw, nw, self.num_heads, n, n)
            attn = attn + mask[None, :, None].to(attn.dtype)
            attn = attn.view(-1, self.num_heads, n, n)
        x = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(b_, n, c)
        return self.proj(x)


class SwinTransformerBlock(nn.Module):
    """(Shifted) window attention and an MLP, each with a pre-norm and a skip."""

    def __init__(self, dim: int, num_heads: int, window: int, shift: int, mlp_ratio: float,
                 qkv_bias: bool):
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self._masks: dict[tuple, Tensor] = {}

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # type: ignore[override]
        state_dict.pop(prefix + "attn_mask", None)  # official files store it; it is computed here
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def mask(self, h: int, w: int, device: torch.device) -> Tensor:
        """The official ``calculate_mask`` for an ``h x w`` input: 0 or -100 per window pair."""
        key = (h, w, str(device))
        m = self._masks.get(key)
        if m is None:
            img = torch.zeros(1, h, w, 1)
            ws, s = self.window, self.shift
            cnt = 0
            for hs in (slice(0, -ws), slice(-ws, -s), slice(-s, None)):
                for wsl in (slice(0, -ws), slice(-ws, -s), slice(-s, None)):
                    img[:, hs, wsl, :] = cnt
                    cnt += 1
            mw = _partition(img, ws).squeeze(-1)
            m = mw.unsqueeze(1) - mw.unsqueeze(2)
            m = m.masked_fill(m != 0, -100.0).masked_fill(m == 0, 0.0).to(device)
            if len(self._masks) > 8:
                self._masks.clear()
            self._masks[key] = m
        return m

    def forward(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        h, w = size
        b, _, c = x.shape
        y = self.norm1(x).view(b, h, w, c)
        if self.shift:
            y = torch.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
        mask = self.mask(h, w, x.device) if self.shift else None
        y = _reverse(self.attn(_partition(y, self.window), mask), self.window, h, w)
        if self.shift:
            y = torch.roll(y, shifts=(self.shift, self.shift), dims=(1, 2))
        x = x + y.reshape(b, h * w, c)
        return x + self.mlp(self.norm2(x))


class _Blocks(nn.Module):
    """``BasicLayer``: keys ``blocks.{j}``; shift ``window // 2`` on odd blocks."""

    def __init__(self, dim: int, depth: int, num_heads: int, window: int, mlp_ratio: float,
                 qkv_bias: bool):
        super().__init__()
        self.blocks = nn.ModuleList([
            SwinTransformerBlock(dim, num_heads, window, 0 if j % 2 == 0 else window // 2,
                                 mlp_ratio, qkv_bias) for j in range(depth)])

    def forward(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        for blk in self.blocks:
            x = blk(x, size)
        return x


class RSTB(nn.Module):
    """Residual Swin Transformer block: blocks, a convolution on the image layout, skip."""

    def __init__(self, dim: int, depth: int, num_heads: int, window: int, mlp_ratio: float,
                 qkv_bias: bool, resi_connection: str):
        super().__init__()
        self.residual_group = _Blocks(dim, depth, num_heads, window, mlp_ratio, qkv_bias)
        self.conv = _resi_conv(dim, resi_connection)

    def forward(self, x: Tensor, size: tuple[int, int]) -> Tensor:
        b, _, c = x.shape
        y = self.residual_group(x, size).transpose(1, 2).reshape(b, c, *size)
        return self.conv(y).flatten(2).transpose(1, 2) + x


def _resi_conv(dim: int, kind: str) -> nn.Module:
    if kind == "1conv":
        return nn.Conv2d(dim, dim, 3, 1, 1)
    if kind == "3conv":
        return nn.Sequential(nn.Conv2d(dim, dim // 4, 3, 1, 1), nn.LeakyReLU(0.2, True),
                             nn.Conv2d(dim // 4, dim // 4, 1, 1, 0), nn.LeakyReLU(0.2, True),
                             nn.Conv2d(dim // 4, dim, 3, 1, 1))
    raise ValueError(f"resi_connection must be '1conv' or '3conv', got {kind!r}")


class _PatchEmbed(nn.Module):
    """Only the optional LayerNorm of the official ``PatchEmbed`` (key ``norm``)."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)


class SwinIR(FixedScaleSR):
    """SwinIR: ``x (B, in_chans, H, W)`` in [0, 1] -> ``(B, in_chans, sH, sW)`` (not clipped).

    Classical SR: ``embed_dim=180, depths=[6]*6, num_heads=[6]*6, window_size=8,
    mlp_ratio=2, upsampler='pixelshuffle'``; lightweight: ``embed_dim=60, depths=[6]*4,
    num_heads=[6]*4, upsampler='pixelshuffledirect'``.
    """

    arch_name = "swinir"

    def __init__(self, upscale: int = 2, in_chans: int = 3, embed_dim: int = 180,
                 depths: Sequence[int] = (6, 6, 6, 6, 6, 6),
                 num_heads: Sequence[int] = (6, 6, 6, 6, 6, 6), window_size: int = 8,
                 mlp_ratio: float = 2.0, qkv_bias: bool = True, patch_norm: bool = True,
                 img_range: float = 1.0, upsampler: str = "pixelshuffle",
                 resi_connection: str = "1conv", num_feat: int = 64, scale: int | None = None):
        super().__init__()
        r = int(scale if scale is not None else upscale)
        if upsampler not in UPSAMPLERS:
            raise ValueError(f"upsampler must be one of {UPSAMPLERS}, got {upsampler!r}")
        if len(depths) != len(num_heads):
            raise ValueError("depths and num_heads must have the same length")
        if upsampler == "nearest+conv" and r != 4:
            raise ValueError("SwinIR's 'nearest+conv' upsampler is x4 only")
        r = 1 if upsampler == "" else r
        self.hparams: dict[str, Any] = dict(
            upscale=r, in_chans=int(in_chans), embed_dim=int(embed_dim),
            depths=[int(d) for d in depths], num_heads=[int(h) for h in num_heads],
            window_size=int(window_size), mlp_ratio=float(mlp_ratio), qkv_bias=bool(qkv_bias),
            patch_norm=bool(patch_norm), img_range=float(img_range), upsampler=upsampler,
            resi_connection=resi_connection, num_feat=int(num_feat))
        self.scale = r
        self.in_channels = int(in_chans)
        self.window = int(window_size)
        self.upsampler = upsampler
        self.img_range = float(img_range)
        mean = DIV2K_RGB_MEAN if in_chans == 3 else (0.0,) * int(in_chans)
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        e, nf, c = int(embed_dim), int(num_feat), int(in_chans)

        self.conv_first = nn.Conv2d(c, e, 3, 1, 1)
        if patch_norm:
            self.patch_embed = _PatchEmbed(e)
        self.layers = nn.ModuleList([RSTB(e, d, h, self.window, mlp_ratio, qkv_bias,
                                          resi_connection) for d, h in zip(depths, num_heads)])
        self.norm = nn.LayerNorm(e)
        self.conv_after_body = _resi_conv(e, resi_connection)
        if upsampler == "pixelshuffle":
            self.conv_before_upsample = nn.Sequential(nn.Conv2d(e, nf, 3, 1, 1),
                                                      nn.LeakyReLU(0.01, True))
            up: list[nn.Module] = []
            if r & (r - 1) == 0:
                for _ in range(int(math.log2(r))):
                    up += [nn.Conv2d(nf, 4 * nf, 3, 1, 1), nn.PixelShuffle(2)]
            elif r == 3:
                up += [nn.Conv2d(nf, 9 * nf, 3, 1, 1), nn.PixelShuffle(3)]
            else:
                raise ValueError(f"SwinIR's pixelshuffle upsampler supports 2^n and 3, got {r}")
            self.upsample = nn.Sequential(*up)
            self.conv_last = nn.Conv2d(nf, c, 3, 1, 1)
            tail = 1 + len(up) // 2 + 1
        elif upsampler == "pixelshuffledirect":
            self.upsample = nn.Sequential(nn.Conv2d(e, r * r * c, 3, 1, 1), nn.PixelShuffle(r))
            tail = 1
        elif upsampler == "nearest+conv":
            self.conv_before_upsample = nn.Sequential(nn.Conv2d(e, nf, 3, 1, 1),
                                                      nn.LeakyReLU(0.01, True))
            self.conv_up1 = nn.Conv2d(nf, nf, 3, 1, 1)
            self.conv_up2 = nn.Conv2d(nf, nf, 3, 1, 1)
            self.conv_hr = nn.Conv2d(nf, nf, 3, 1, 1)
            self.conv_last = nn.Conv2d(nf, c, 3, 1, 1)
            tail = 5
        else:
            self.conv_last = nn.Conv2d(e, c, 3, 1, 1)
            tail = 1
        # each block mixes a window (<= w - 1 pixels away); conv_first, one conv per RSTB,
        # conv_after_body, the tail; plus one window for the shifted-window masks at the edges
        rconv = 1 if resi_connection == "1conv" else 2
        body = sum(d * (self.window - 1) + rconv for d in depths)
        self.receptive_field = 1 + body + rconv + tail + self.window

    def forward_features(self, x: Tensor) -> Tensor:
        b, c, h, w = x.shape
        t = x.flatten(2).transpose(1, 2)
        if hasattr(self, "patch_embed"):
            t = self.patch_embed.norm(t)
        for layer in self.layers:
            t = layer(t, (h, w))
        return self.norm(t).transpose(1, 2).reshape(b, c, h, w)

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.window, (-w) % self.window
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect" if (ph < h and pw < w) else "replicate")
        mean = self.mean.to(x.dtype)
        x = (x - mean) * self.img_range
        if self.upsampler == "":
            first = self.conv_first(x)
            x = x + self.conv_last(self.conv_after_body(self.forward_features(first)) + first)
        else:
            x = self.conv_first(x)
            x = self.conv_after_body(self.forward_features(x)) + x
            if self.upsampler == "pixelshuffle":
                x = self.conv_last(self.upsample(self.conv_before_upsample(x)))
            elif self.upsampler == "pixelshuffledirect":
                x = self.upsample(x)
            else:
                x = self.conv_before_upsample(x)
                for conv in (self.conv_up1, self.conv_up2):
                    x = F.leaky_relu(conv(F.interpolate(x, scale_factor=2, mode="nearest")), 0.2)
                x = self.conv_last(F.leaky_relu(self.conv_hr(x), 0.2))
        x = x / self.img_range + mean
        return x[..., : h * self.scale, : w * self.scale]


def detect_swinir(sd: StateDict) -> dict[str, Any] | None:
    """Embedding width, depths, heads, window, MLP ratio, upsampler, scale, colours."""
    first = shape_of(sd, "conv_first.weight")
    p0 = "layers.0.residual_group.blocks.0."
    if first is None or len(first) != 4 or p0 + "norm1.weight" not in sd:
        return None
    e, c = first[0], first[1]
    n_layers = count_seq(sd, "layers.{}.residual_group.blocks.0.norm1.weight")
    depths, heads, windows = [], [], set()
    fc1 = shape_of(sd, p0 + "mlp.fc1.weight")
    if fc1 is None:
        return None
    for i in range(n_layers):
        d = count_seq(sd, f"layers.{i}.residual_group.blocks.{{}}.norm1.weight")
        depths.append(d)
        for j in range(d):
            p = f"layers.{i}.residual_group.blocks.{j}."
            table = shape_of(sd, p + "attn.relative_position_bias_table")
            if table is None or shape_of(sd, p + "attn.qkv.weight") != (3 * e, e):
                return None
            side = math.isqrt(table[0])
            if side * side != table[0] or side % 2 == 0:
                return None
            windows.add((side + 1) // 2)
            if j == 0:
                heads.append(table[1])
            elif table[1] != heads[-1] or shape_of(sd, p + "mlp.fc1.weight") != fc1:
                return None
    if len(windows) != 1:
        return None
    hp: dict[str, Any] = dict(in_chans=c, embed_dim=e, depths=depths, num_heads=heads,
                              window_size=windows.pop(), mlp_ratio=fc1[0] / e,
                              qkv_bias=p0 + "attn.qkv.bias" in sd,
                              patch_norm="patch_embed.norm.weight" in sd,
                              resi_connection=("3conv" if "conv_after_body.0.weight" in sd
                                               else "1conv"))
    if "conv_up1.weight" in sd:
        hp.update(upsampler="nearest+conv", upscale=4,
                  num_feat=shape_of(sd, "conv_before_upsample.0.weight")[0])  # type: ignore[index]
    elif "conv_before_upsample.0.weight" in sd:
        nf = shape_of(sd, "conv_before_upsample.0.weight")[0]  # type: ignore[index]
        idx = indices(sd, r"upsample\.(\d+)\.weight")
        if idx != list(range(0, 2 * len(idx), 2)):
            return None
        outs = [shape_of(sd, f"upsample.{i}.weight")[0] for i in idx]  # type: ignore[index]
        if outs and all(o == 4 * nf for o in outs):
            r = 2 ** len(outs)
        elif outs == [9 * nf]:
            r = 3
        else:
            return None
        hp.update(upsampler="pixelshuffle", upscale=r, num_feat=nf)
    elif "upsample.0.weight" in sd:
        out = shape_of(sd, "upsample.0.weight")[0]  # type: ignore[index]
        r = math.isqrt(out // c)
        if r < 1 or r * r * c != out:
            return None
        hp.update(upsampler="pixelshuffledirect", upscale=r)
    elif shape_of(sd, "conv_last.weight") == (c, e, 3, 3):
        hp.update(upsampler="", upscale=1)
    else:
        return None
    return hp


SPEC = ArchSpec(
    name="swinir",
    kind="fixed",
    detect=detect_swinir,
    build=lambda **hp: SwinIR(**hp),
    required_keys=("conv_first.weight", "patch_embed.norm.weight",
                   "layers.0.residual_group.blocks.0.attn.qkv.weight",
                   "layers.0.residual_group.blocks.0.attn.relative_position_bias_table",
                   "layers.0.conv.", "norm.weight", "conv_after_body."),
    description="SwinIR (Liang et al. 2021), official classical / lightweight / real-world SR "
                "checkpoints",
    key_patterns=(r"^conv_(first|last|up1|up2|hr)\.(weight|bias)$", r"^patch_embed\.norm\.",
                  r"^layers\.\d+\.residual_group\.blocks\.\d+\.", r"^layers\.\d+\.conv\.",
                  r"^norm\.(weight|bias)$", r"^conv_after_body\.", r"^conv_before_upsample\.0\.",
                  r"^upsample\.\d+\.(weight|bias)$"),
)
