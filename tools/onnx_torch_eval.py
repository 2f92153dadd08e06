"""A small ONNX interpreter on top of PyTorch, for checking exports where onnxruntime is not installed.

It covers the ops that torch.onnx (1.13) emits for the quantlens models at opsets 13 and 17, keeps every
intermediate value, and fails on anything else. It is a checking tool for tools/, not a runtime.
"""
from __future__ import annotations

from typing import Callable, Dict, List

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

_DTYPES = {1: torch.float32, 6: torch.int32, 7: torch.int64, 9: torch.bool, 11: torch.float64}


def _attrs(node: onnx.NodeProto) -> Dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _ints(t: torch.Tensor) -> List[int]:
    return [int(v) for v in t.reshape(-1).tolist()]


def _slice(x, starts, ends, axes=None, steps=None):
    starts, ends = _ints(starts), _ints(ends)
    axes = _ints(axes) if axes is not None else list(range(len(starts)))
    steps = _ints(steps) if steps is not None else [1] * len(starts)
    for s, e, a, st in zip(starts, ends, axes, steps):
        n = x.shape[a]
        s = s + n if s < 0 else s
        e = e + n if e < 0 else e
        if st > 0:
            s, e = max(0, min(n, s)), max(0, min(n, e))
        elif st < 0:
            s, e = max(-1, min(n - 1, s)), max(-1, min(n - 1, e))
        else:
            raise ValueError("Slice step 0")
        x = torch.index_select(x, a, torch.arange(s, e, st, dtype=torch.int64))
    return x


def _unsqueeze(x, axes):
    rank = x.dim() + len(axes)
    for a in sorted(a + rank if a < 0 else a for a in axes):
        x = x.unsqueeze(a)
    return x


def _div(a, b):
    if a.is_floating_point() or b.is_floating_point():
        return a / b
    return torch.div(a, b, rounding_mode="trunc")


def _conv(x, w, b, at):
    pads = at.get("pads", [0] * (2 * (w.dim() - 2)))
    k = len(pads) // 2
    if pads[:k] == pads[k:]:
        padding = pads[:k]
    else:
        torch_pad: List[int] = []
        for i in reversed(range(k)):
            torch_pad += [pads[i], pads[i + k]]
        x = F.pad(x, torch_pad)
        padding = [0] * k
    if at.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise NotImplementedError("Conv auto_pad")
    return F.conv2d(x, w, b, stride=at.get("strides", 1), padding=padding, dilation=at.get("dilations", 1),
                    groups=at.get("group", 1))


def _gemm(a, b, c, at):
    if at.get("transA", 0):
        a = a.t()
    if at.get("transB", 0):
        b = b.t()
    y = at.get("alpha", 1.0) * (a @ b)
    if c is not None:
        y = y + at.get("beta", 1.0) * c
    return y


def _pad(x, pads, value, at):
    if at.get("mode", b"constant") not in (b"constant", "constant"):
        raise NotImplementedError("Pad mode")
    p = _ints(pads)
    k = len(p) // 2
    torch_pad: List[int] = []
    for i in reversed(range(k)):
        torch_pad += [p[i], p[i + k]]
    return F.pad(x, torch_pad, value=float(value.item()) if value is not None else 0.0)


def _resize(x, roi, scales, sizes, at):
    mode = at.get("mode", b"nearest")
    if mode not in (b"nearest", "nearest"):
        raise NotImplementedError(f"Resize mode {mode}")
    if sizes is not None and sizes.numel() > 0:
        return F.interpolate(x, size=_ints(sizes)[2:], mode="nearest")
    sc = scales.tolist()
    return F.interpolate(x, scale_factor=sc[2:], mode="nearest")


def _expand(x, shape):
    return x.expand(torch.broadcast_shapes(tuple(x.shape), tuple(_ints(shape)))).clone()


def _reshape(x, shape):
    s = _ints(shape)
    s = [x.shape[i] if v == 0 else v for i, v in enumerate(s)]
    return x.reshape(s)


def _gather(x, idx, axis):
    axis = axis % x.dim()
    i = idx.long()
    i = torch.where(i < 0, i + x.shape[axis], i)
    out = torch.index_select(x, axis, i.reshape(-1))
    return out.reshape(tuple(x.shape[:axis]) + tuple(i.shape) + tuple(x.shape[axis + 1:]))


OPS: Dict[str, Callable] = {
    "Identity": lambda i, a: i[0],
    "Add": lambda i, a: i[0] + i[1],
    "Sub": lambda i, a: i[0] - i[1],
    "Mul": lambda i, a: i[0] * i[1],
    "Div": lambda i, a: _div(i[0], i[1]),
    "Pow": lambda i, a: torch.pow(i[0], i[1]),
    "Sqrt": lambda i, a: torch.sqrt(i[0]),
    "Erf": lambda i, a: torch.erf(i[0]),
    "Sigmoid": lambda i, a: torch.sigmoid(i[0]),
    "Relu": lambda i, a: torch.relu(i[0]),
    "Sin": lambda i, a: torch.sin(i[0]),
    "Cos": lambda i, a: torch.cos(i[0]),
    "Neg": lambda i, a: -i[0],
    "Equal": lambda i, a: i[0] == i[1],
    "Where": lambda i, a: torch.where(i[0], i[1], i[2]),
    "Cast": lambda i, a: i[0].to(_DTYPES[a["to"]]),
    "Shape": lambda i, a: torch.tensor(list(i[0].shape), dtype=torch.int64)[a.get("start", 0):a.get("end")],
    "Slice": lambda i, a: _slice(*i),
    "Concat": lambda i, a: torch.cat(i, dim=a["axis"]),
    "Reshape": lambda i, a: _reshape(i[0], i[1]),
    "Flatten": lambda i, a: i[0].reshape(int(np.prod(i[0].shape[:a.get("axis", 1)])), -1),
    "Transpose": lambda i, a: i[0].permute(a.get("perm", list(reversed(range(i[0].dim()))))),
    "Gather": lambda i, a: _gather(i[0], i[1], a.get("axis", 0)),
    "Unsqueeze": lambda i, a: _unsqueeze(i[0], _ints(i[1]) if len(i) > 1 else a["axes"]),
    "Squeeze": lambda i, a: i[0].squeeze(tuple(_ints(i[1]) if len(i) > 1 else a["axes"])),
    "ConstantOfShape": lambda i, a: torch.full(
        _ints(i[0]), float(numpy_helper.to_array(a["value"]).reshape(-1)[0]) if "value" in a else 0.0,
        dtype=_DTYPES[a["value"].data_type] if "value" in a else torch.float32),
    "Expand": lambda i, a: _expand(i[0], i[1]),
    "MatMul": lambda i, a: torch.matmul(i[0], i[1]),
    "Gemm": lambda i, a: _gemm(i[0], i[1], i[2] if len(i) > 2 else None, a),
    "Conv": lambda i, a: _conv(i[0], i[1], i[2] if len(i) > 2 else None, a),
    "Softmax": lambda i, a: torch.softmax(i[0], dim=a.get("axis", -1)),
    "ReduceMean": lambda i, a: i[0].mean(dim=tuple(a["axes"]), keepdim=bool(a.get("keepdims", 1))),
    "LayerNormalization": lambda i, a: F.layer_norm(
        i[0], tuple(i[0].shape[a.get("axis", -1):]), i[1], i[2] if len(i) > 2 else None, a.get("epsilon", 1e-5)),
    "InstanceNormalization": lambda i, a: F.instance_norm(i[0], weight=i[1], bias=i[2],
                                                          eps=a.get("epsilon", 1e-5)),
    "Pad": lambda i, a: _pad(i[0], i[1], i[2] if len(i) > 2 else None, a),
    "Resize": lambda i, a: _resize(i[0], *(list(i[1:]) + [None] * (4 - len(i))), a),
    "MaxPool": lambda i, a: F.max_pool2d(i[0], a["kernel_shape"], a.get("strides"), a.get("pads", [0, 0])[:2]),
    "GlobalAveragePool": lambda i, a: i[0].mean(dim=(2, 3), keepdim=True),
    "ReduceMax": lambda i, a: i[0].amax(dim=tuple(a["axes"]), keepdim=bool(a.get("keepdims", 1))),
}


def run(model: onnx.ModelProto, feeds: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Evaluates the graph in node order; returns every value (inputs, initializers, intermediates)."""
    env: Dict[str, torch.Tensor] = {}
    for init in model.graph.initializer:
        env[init.name] = torch.from_numpy(numpy_helper.to_array(init).copy())
    env.update(feeds)
    with torch.no_grad():
        for node in model.graph.node:
            at = _attrs(node)
            if node.op_type == "Constant":
                out = torch.from_numpy(numpy_helper.to_array(at["value"]).copy())
            else:
                fn = OPS.get(node.op_type)
                if fn is None:
                    raise NotImplementedError(f"{node.name}: op {node.op_type} not supported by onnx_torch_eval")
                ins = [env[n] if n else None for n in node.input]
                while ins and ins[-1] is None:
                    ins.pop()
                try:
                    out = fn(ins, at)
                except Exception as e:  # name the node, the traceback alone does not
                    raise RuntimeError(f"{node.name} ({node.op_type}): {e}") from e
            env[node.output[0]] = out
    return env
