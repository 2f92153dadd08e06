"""PyTorch definitions of the models quantlens ships and tests with.

Written for this project from the published architectures:
  - DeiT / ViT (Dosovitskiy et al. 2021, Touvron et al. 2021) in the layout of timm's VisionTransformer,
  - Swin Transformer (Liu et al. 2021): shifted windows, relative position bias, patch merging,
  - the DDIM/DDPM CIFAR-10 UNet (Ho et al. 2020, Song et al. 2021): GroupNorm, SiLU, sinusoidal time
    embedding, attention at one resolution, skip Concats in the decoder,
  - a small CNN classifier whose penultimate layer gives FID/IS features.

The attention matmuls and softmaxes are modules (MatMul, nn.Softmax) rather than inline ops so that forward
hooks see their inputs and outputs; torch.onnx names their nodes after the module scope
(e.g. `/blocks.0/attn/matmul1/MatMul`), which is how fixtures map PyTorch tensors to ONNX value names.
Module paths are also the initializer names users see, so they follow timm / the DDIM code where they can.

Only PyTorch is needed; nothing here is used at run time by quantlens.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


class MatMul(nn.Module):
    """torch.matmul as a module, so hooks can observe both operands."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.matmul(a, b)


def _trunc_normal_init(module: nn.Module, std: float = 0.02) -> None:
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


# --------------------------------------------------------------------------------------------------------------
# DeiT / ViT
# --------------------------------------------------------------------------------------------------------------


class PatchEmbed(nn.Module):
    def __init__(self, img_size: int, patch_size: int, in_chans: int, embed_dim: int):
        super().__init__()
        assert img_size % patch_size == 0
        self.grid = img_size // patch_size
        self.num_patches = self.grid * self.grid
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)  # B, D, H/p, W/p
        return x.flatten(2).transpose(1, 2)  # B, N, D


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int, qkv_bias: bool = True, attn_drop: float = 0.0,
                 proj_drop: float = 0.0):
        super().__init__()
        assert dim % num_heads == 0
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.matmul1 = MatMul()
        self.softmax = nn.Softmax(dim=-1)
        self.attn_drop = nn.Dropout(attn_drop)
        self.matmul2 = MatMul()
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = self.matmul1(q, k.transpose(-2, -1)) * self.scale
        attn = self.softmax(attn)
        attn = self.attn_drop(attn)
        x = self.matmul2(attn, v).transpose(1, 2).reshape(B, N, C)
        x = self.proj(x)
        return self.proj_drop(x)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int, drop: float = 0.0):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.act(self.fc1(x)))
        return self.drop(self.fc2(x))


class DropPath(nn.Module):
    """Stochastic depth: drops the residual branch per sample during training."""

    def __init__(self, p: float = 0.0):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0 or not self.training:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


class Block(nn.Module):
    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 drop: float = 0.0, attn_drop: float = 0.0, drop_path: float = 0.0, eps: float = 1e-6):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, num_heads, qkv_bias, attn_drop, drop)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x)))
        x = x + self.drop_path(self.mlp(self.norm2(x)))
        return x


class VisionTransformer(nn.Module):
    """DeiT-style ViT: conv patch embedding, cls token, learned position embedding, pre-norm blocks,
    final LayerNorm, linear head on the cls token."""

    def __init__(self, img_size: int = 32, patch_size: int = 4, in_chans: int = 3, num_classes: int = 10,
                 embed_dim: int = 192, depth: int = 6, num_heads: int = 3, mlp_ratio: float = 4.0,
                 qkv_bias: bool = True, drop_rate: float = 0.0, attn_drop_rate: float = 0.0,
                 drop_path_rate: float = 0.0, eps: float = 1e-6):
        super().__init__()
        self.num_classes = num_classes
        self.embed_dim = embed_dim
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        n = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, embed_dim))
        self.pos_drop = nn.Dropout(drop_rate)
        dpr = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]
        self.blocks = nn.ModuleList([
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias, drop_rate, attn_drop_rate, dpr[i], eps)
            for i in range(depth)
        ])
        self.norm = nn.LayerNorm(embed_dim, eps=eps)
        self.head = nn.Linear(embed_dim, num_classes)
        nn.init.trunc_normal_(self.pos_embed, std=0.02, a=-0.04, b=0.04)
        nn.init.trunc_normal_(self.cls_token, std=0.02, a=-0.04, b=0.04)
        _trunc_normal_init(self)

    def no_weight_decay(self) -> List[str]:
        return ["pos_embed", "cls_token"]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls, x), dim=1)
        x = self.pos_drop(x + self.pos_embed)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x)[:, 0])


# --------------------------------------------------------------------------------------------------------------
# Swin
# --------------------------------------------------------------------------------------------------------------


def window_partition(x: torch.Tensor, ws: int) -> torch.Tensor:
    """(B, H, W, C) -> (B * nW, ws*ws, C). H, W, C are Python ints so the batch stays dynamic in ONNX."""
    _, H, W, C = x.shape
    H, W, C = int(H), int(W), int(C)
    x = x.reshape(-1, H // ws, ws, W // ws, ws, C)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, ws * ws, C)


def window_reverse(windows: torch.Tensor, ws: int, H: int, W: int) -> torch.Tensor:
    """(B * nW, ws*ws, C) -> (B, H, W, C)."""
    C = int(windows.shape[-1])
    x = windows.reshape(-1, H // ws, W // ws, ws, ws, C)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, H, W, C)


class WindowAttention(nn.Module):
    def __init__(self, dim: int, window_size: int, num_heads: int, qkv_bias: bool = True,
                 attn_drop: float = 0.0, proj_drop: float = 0.0):
        super().__init__()
        self.dim = dim
        self.window_size = window_size
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.scale = self.head_dim ** -0.5
        ws = window_size
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * ws - 1) * (2 * ws - 1), num_heads))
        # For each pair of tokens (i, j) inside a window, the index into the table of their relative offset.
        coords = torch.stack(torch.meshgrid(torch.arange(ws), torch.arange(ws), indexing="ij")).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)  # N, N, 2
        rel = rel + (ws - 1)
        index = rel[:, :, 0] * (2 * ws - 1) + rel[:, :, 1]
        self.register_buffer("relative_position_index", index, persistent=False)
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.matmul1 = MatMul()
        self.softmax = nn.Softmax(dim=-1)
        self.attn_drop = nn.Dropout(attn_drop)
        self.matmul2 = MatMul()
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02, a=-0.04, b=0.04)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        N, C = int(x.shape[1]), int(x.shape[2])
        qkv = self.qkv(x).reshape(-1, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = self.matmul1(q, k.transpose(-2, -1)) * self.scale
        bias = self.relative_position_bias_table[self.relative_position_index.reshape(-1)]
        bias = bias.reshape(N, N, self.num_heads).permute(2, 0, 1)
        attn = attn + bias.unsqueeze(0)
        if mask is not None:
            nW = int(mask.shape[0])
            attn = attn.reshape(-1, nW, self.num_heads, N, N) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.reshape(-1, self.num_heads, N, N)
        attn = self.attn_drop(self.softmax(attn))
        x = self.matmul2(attn, v).transpose(1, 2).reshape(-1, N, C)
        return self.proj_drop(self.proj(x))


class SwinBlock(nn.Module):
    def __init__(self, dim: int, resolution: int, num_heads: int, window_size: int = 4, shift_size: int = 0,
                 mlp_ratio: float = 4.0, qkv_bias: bool = True, drop: float = 0.0, attn_drop: float = 0.0,
                 drop_path: float = 0.0, eps: float = 1e-5):
        super().__init__()
        self.dim = dim
        self.resolution = resolution
        if resolution <= window_size:
            # One window covers the map: shifting would only move tokens around.
            window_size, shift_size = resolution, 0
        self.window_size = window_size
        self.shift_size = shift_size
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = WindowAttention(dim, window_size, num_heads, qkv_bias, attn_drop, drop)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)
        if shift_size > 0:
            # Regions that were not neighbours before the cyclic shift must not attend to each other.
            H = W = resolution
            img = torch.zeros(1, H, W, 1)
            cnt = 0
            for hs in (slice(0, -window_size), slice(-window_size, -shift_size), slice(-shift_size, None)):
                for wsl in (slice(0, -window_size), slice(-window_size, -shift_size), slice(-shift_size, None)):
                    img[:, hs, wsl, :] = cnt
                    cnt += 1
            mw = window_partition(img, window_size).squeeze(-1)  # nW, N
            mask = mw.unsqueeze(1) - mw.unsqueeze(2)
            mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
            self.register_buffer("attn_mask", mask, persistent=False)
        else:
            self.attn_mask = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        H = W = self.resolution
        C = self.dim
        shortcut = x
        x = self.norm1(x).reshape(-1, H, W, C)
        if self.shift_size > 0:
            x = torch.roll(x, shifts=(-self.shift_size, -self.shift_size), dims=(1, 2))
        win = window_partition(x, self.window_size)
        win = self.attn(win, self.attn_mask)
        x = window_reverse(win, self.window_size, H, W)
        if self.shift_size > 0:
            x = torch.roll(x, shifts=(self.shift_size, self.shift_size), dims=(1, 2))
        x = shortcut + self.drop_path(x.reshape(-1, H * W, C))
        x = x + self.drop_path(self.mlp(self.norm2(x)))
        return x


class PatchMerging(nn.Module):
    def __init__(self, dim: int, resolution: int, eps: float = 1e-5):
        super().__init__()
        self.dim = dim
        self.resolution = resolution
        self.norm = nn.LayerNorm(4 * dim, eps=eps)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        H = W = self.resolution
        x = x.reshape(-1, H, W, self.dim)
        x0 = x[:, 0::2, 0::2, :]
        x1 = x[:, 1::2, 0::2, :]
        x2 = x[:, 0::2, 1::2, :]
        x3 = x[:, 1::2, 1::2, :]
        x = torch.cat([x0, x1, x2, x3], dim=-1).reshape(-1, (H // 2) * (W // 2), 4 * self.dim)
        return self.reduction(self.norm(x))


class SwinStage(nn.Module):
    def __init__(self, dim: int, resolution: int, depth: int, num_heads: int, window_size: int,
                 mlp_ratio: float, qkv_bias: bool, drop: float, attn_drop: float, drop_path: Sequence[float],
                 downsample: bool):
        super().__init__()
        self.blocks = nn.ModuleList([
            SwinBlock(dim, resolution, num_heads, window_size, 0 if i % 2 == 0 else window_size // 2,
                      mlp_ratio, qkv_bias, drop, attn_drop, drop_path[i])
            for i in range(depth)
        ])
        self.downsample = PatchMerging(dim, resolution) if downsample else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for blk in self.blocks:
            x = blk(x)
        if self.downsample is not None:
            x = self.downsample(x)
        return x


class SwinTransformer(nn.Module):
    def __init__(self, img_size: int = 32, patch_size: int = 2, in_chans: int = 3, num_classes: int = 10,
                 embed_dim: int = 96, depths: Sequence[int] = (2, 2, 6), num_heads: Sequence[int] = (3, 6, 12),
                 window_size: int = 4, mlp_ratio: float = 4.0, qkv_bias: bool = True, drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0, drop_path_rate: float = 0.1):
        super().__init__()
        self.num_classes = num_classes
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        self.patch_norm = nn.LayerNorm(embed_dim)
        self.pos_drop = nn.Dropout(drop_rate)
        total = sum(depths)
        dpr = [drop_path_rate * i / max(total - 1, 1) for i in range(total)]
        res = img_size // patch_size
        layers = []
        start = 0
        for i, (d, h) in enumerate(zip(depths, num_heads)):
            last = i == len(depths) - 1
            layers.append(SwinStage(embed_dim * 2 ** i, res // 2 ** i, d, h, window_size, mlp_ratio, qkv_bias,
                                    drop_rate, attn_drop_rate, dpr[start:start + d], downsample=not last))
            start += d
        self.layers = nn.ModuleList(layers)
        self.num_features = embed_dim * 2 ** (len(depths) - 1)
        self.norm = nn.LayerNorm(self.num_features)
        self.head = nn.Linear(self.num_features, num_classes)
        _trunc_normal_init(self)

    def no_weight_decay(self) -> List[str]:
        return ["relative_position_bias_table"]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pos_drop(self.patch_norm(self.patch_embed(x)))
        for layer in self.layers:
            x = layer(x)
        x = self.norm(x).mean(dim=1)
        return self.head(x)


# --------------------------------------------------------------------------------------------------------------
# DDIM UNet
# --------------------------------------------------------------------------------------------------------------


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer time steps as in the DDPM/DDIM code (sin half, then cos half)."""
    half = dim // 2
    freq = torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(10000.0) / (half - 1)))
    args = t.float()[:, None] * freq[None, :]
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1))
    return emb


class GroupNorm(nn.GroupNorm):
    """nn.GroupNorm that accepts bfloat16 input under CPU autocast (torch 1.13's group_norm does not mix bf16 input
    with fp32 affine parameters). In fp32, as when exporting, it is exactly nn.GroupNorm: no Cast enters the graph."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype != self.weight.dtype:
            x = x.to(self.weight.dtype)
        return super().forward(x)


def _group_norm(ch: int, groups: int) -> nn.GroupNorm:
    return GroupNorm(num_groups=groups, num_channels=ch, eps=1e-6, affine=True)


class ResnetBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, temb_ch: int, dropout: float, groups: int):
        super().__init__()
        self.norm1 = _group_norm(in_ch, groups)
        self.act1 = nn.SiLU()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, 1, 1)
        self.temb_act = nn.SiLU()
        self.temb_proj = nn.Linear(temb_ch, out_ch)
        self.norm2 = _group_norm(out_ch, groups)
        self.act2 = nn.SiLU()
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1)
        self.nin_shortcut = nn.Conv2d(in_ch, out_ch, 1, 1, 0) if in_ch != out_ch else None

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.act1(self.norm1(x)))
        h = h + self.temb_proj(self.temb_act(temb))[:, :, None, None]
        h = self.conv2(self.dropout(self.act2(self.norm2(h))))
        if self.nin_shortcut is not None:
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    def __init__(self, ch: int, groups: int):
        super().__init__()
        self.norm = _group_norm(ch, groups)
        self.q = nn.Conv2d(ch, ch, 1)
        self.k = nn.Conv2d(ch, ch, 1)
        self.v = nn.Conv2d(ch, ch, 1)
        self.matmul1 = MatMul()
        self.softmax = nn.Softmax(dim=-1)
        self.matmul2 = MatMul()
        self.proj_out = nn.Conv2d(ch, ch, 1)
        self.scale = ch ** -0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        C, H, W = int(x.shape[1]), int(x.shape[2]), int(x.shape[3])
        q = q.reshape(-1, C, H * W).permute(0, 2, 1)  # B, HW, C
        k = k.reshape(-1, C, H * W)  # B, C, HW
        w = self.softmax(self.matmul1(q, k) * self.scale)  # B, HWq, HWk
        v = v.reshape(-1, C, H * W)
        h = self.matmul2(v, w.permute(0, 2, 1)).reshape(-1, C, H, W)  # sum over keys
        return x + self.proj_out(h)


class Downsample(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, 2, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Asymmetric padding as in the DDPM/DDIM code.
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class Upsample(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Level(nn.Module):
    """One resolution of the encoder or decoder (named like the DDIM code's down[i] / up[i])."""

    def __init__(self):
        super().__init__()
        self.block = nn.ModuleList()
        self.attn = nn.ModuleList()


class DDIMUNet(nn.Module):
    """Noise-prediction UNet of DDPM/DDIM (CIFAR-10 design), scaled by ch / ch_mult / num_res_blocks.

    forward(x, t) with x (B, C, H, W) float and t (B,) int64 returns eps of the same shape as x."""

    def __init__(self, img_size: int = 32, in_ch: int = 1, out_ch: Optional[int] = None, ch: int = 32,
                 ch_mult: Sequence[int] = (1, 2, 2), num_res_blocks: int = 2,
                 attn_resolutions: Sequence[int] = (16,), dropout: float = 0.1, groups: int = 32):
        super().__init__()
        out_ch = out_ch or in_ch
        self.ch = ch
        self.temb_ch = ch * 4
        self.num_resolutions = len(ch_mult)
        self.num_res_blocks = num_res_blocks
        self.temb = nn.Module()
        self.temb.dense = nn.ModuleList([nn.Linear(ch, self.temb_ch), nn.Linear(self.temb_ch, self.temb_ch)])
        self.temb_act = nn.SiLU()
        self.conv_in = nn.Conv2d(in_ch, ch, 3, 1, 1)

        curr_res = img_size
        in_mult = (1,) + tuple(ch_mult)
        block_in = ch
        self.down = nn.ModuleList()
        for i in range(self.num_resolutions):
            lvl = Level()
            block_in = ch * in_mult[i]
            block_out = ch * ch_mult[i]
            for _ in range(num_res_blocks):
                lvl.block.append(ResnetBlock(block_in, block_out, self.temb_ch, dropout, groups))
                block_in = block_out
                if curr_res in attn_resolutions:
                    lvl.attn.append(AttnBlock(block_in, groups))
            if i != self.num_resolutions - 1:
                lvl.downsample = Downsample(block_in)
                curr_res //= 2
            self.down.append(lvl)

        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(block_in, block_in, self.temb_ch, dropout, groups)
        self.mid.attn_1 = AttnBlock(block_in, groups)
        self.mid.block_2 = ResnetBlock(block_in, block_in, self.temb_ch, dropout, groups)

        up_levels: List[Level] = []
        for i in reversed(range(self.num_resolutions)):
            lvl = Level()
            block_out = ch * ch_mult[i]
            skip_in = ch * ch_mult[i]
            for j in range(num_res_blocks + 1):
                if j == num_res_blocks:
                    skip_in = ch * in_mult[i]
                lvl.block.append(ResnetBlock(block_in + skip_in, block_out, self.temb_ch, dropout, groups))
                block_in = block_out
                if curr_res in attn_resolutions:
                    lvl.attn.append(AttnBlock(block_in, groups))
            if i != 0:
                lvl.upsample = Upsample(block_in)
                curr_res *= 2
            up_levels.insert(0, lvl)
        self.up = nn.ModuleList(up_levels)

        self.norm_out = _group_norm(block_in, groups)
        self.out_act = nn.SiLU()
        self.conv_out = nn.Conv2d(block_in, out_ch, 3, 1, 1)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        temb = timestep_embedding(t, self.ch)
        temb = self.temb.dense[1](self.temb_act(self.temb.dense[0](temb)))

        hs = [self.conv_in(x)]
        for i in range(self.num_resolutions):
            lvl = self.down[i]
            for j in range(self.num_res_blocks):
                h = lvl.block[j](hs[-1], temb)
                if len(lvl.attn) > 0:
                    h = lvl.attn[j](h)
                hs.append(h)
            if i != self.num_resolutions - 1:
                hs.append(lvl.downsample(hs[-1]))

        h = hs[-1]
        h = self.mid.block_1(h, temb)
        h = self.mid.attn_1(h)
        h = self.mid.block_2(h, temb)

        for i in reversed(range(self.num_resolutions)):
            lvl = self.up[i]
            for j in range(self.num_res_blocks + 1):
                h = lvl.block[j](torch.cat([h, hs.pop()], dim=1), temb)
                if len(lvl.attn) > 0:
                    h = lvl.attn[j](h)
            if i != 0:
                h = lvl.upsample(h)

        return self.conv_out(self.out_act(self.norm_out(h)))


# --------------------------------------------------------------------------------------------------------------
# Feature CNN for FID / IS
# --------------------------------------------------------------------------------------------------------------


class FeatureCNN(nn.Module):
    """Small VGG-style classifier; forward returns (features, logits), features = penultimate activations."""

    def __init__(self, in_chans: int = 1, num_classes: int = 10, widths: Sequence[int] = (32, 64, 128),
                 feature_dim: int = 128, dropout: float = 0.3):
        super().__init__()
        layers: List[nn.Module] = []
        c = in_chans
        for w in widths:
            layers += [nn.Conv2d(c, w, 3, 1, 1), nn.BatchNorm2d(w), nn.ReLU(),
                       nn.Conv2d(w, w, 3, 1, 1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, feature_dim)
        self.act = nn.ReLU()
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(feature_dim, num_classes)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        h = self.pool(self.features(x)).flatten(1)
        feats = self.act(self.fc(h))
        return feats, self.head(self.drop(feats))


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_flops(model: nn.Module, *inputs: torch.Tensor) -> int:
    """Multiply-accumulates of Conv2d, Linear and MatMul for one forward pass (batch of inputs), times 2."""
    total = [0]

    def conv_hook(m, inp, out):
        k = m.weight[0].numel()  # in/groups * kh * kw
        total[0] += out.numel() * k

    def lin_hook(m, inp, out):
        total[0] += out.numel() * m.in_features

    def mm_hook(m, inp, out):
        total[0] += out.numel() * inp[0].shape[-1]

    hs = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hs.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hs.append(m.register_forward_hook(lin_hook))
        elif isinstance(m, MatMul):
            hs.append(m.register_forward_hook(mm_hook))
    with torch.no_grad():
        model(*inputs)
    for h in hs:
        h.remove()
    return 2 * total[0]
