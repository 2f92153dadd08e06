// Gradient rules by ONNX op type (default domain), one per file in grads/. Imports the rules only.

import type { OpGrad } from './rule.js';
import { Abs } from './grads/Abs.js';
import { Add } from './grads/Add.js';
import { Cast } from './grads/Cast.js';
import { Ceil } from './grads/Ceil.js';
import { Clip } from './grads/Clip.js';
import { Concat } from './grads/Concat.js';
import { Conv } from './grads/Conv.js';
import { Div } from './grads/Div.js';
import { Erf } from './grads/Erf.js';
import { Exp } from './grads/Exp.js';
import { Expand } from './grads/Expand.js';
import { Flatten } from './grads/Flatten.js';
import { Floor } from './grads/Floor.js';
import { Gather } from './grads/Gather.js';
import { Gemm } from './grads/Gemm.js';
import { GlobalAveragePool } from './grads/GlobalAveragePool.js';
import { Identity } from './grads/Identity.js';
import { InstanceNormalization } from './grads/InstanceNormalization.js';
import { LayerNormalization } from './grads/LayerNormalization.js';
import { Log } from './grads/Log.js';
import { MatMul } from './grads/MatMul.js';
import { Max } from './grads/Max.js';
import { MaxPool } from './grads/MaxPool.js';
import { Min } from './grads/Min.js';
import { Mul } from './grads/Mul.js';
import { Neg } from './grads/Neg.js';
import { Pad } from './grads/Pad.js';
import { Pow } from './grads/Pow.js';
import { ReduceMean } from './grads/ReduceMean.js';
import { ReduceSum } from './grads/ReduceSum.js';
import { Relu } from './grads/Relu.js';
import { Reshape } from './grads/Reshape.js';
import { Resize } from './grads/Resize.js';
import { Round } from './grads/Round.js';
import { Sigmoid } from './grads/Sigmoid.js';
import { Slice } from './grads/Slice.js';
import { Softmax } from './grads/Softmax.js';
import { Split } from './grads/Split.js';
import { Sqrt } from './grads/Sqrt.js';
import { Squeeze } from './grads/Squeeze.js';
import { Sub } from './grads/Sub.js';
import { Sum } from './grads/Sum.js';
import { Tanh } from './grads/Tanh.js';
import { Transpose } from './grads/Transpose.js';
import { Unsqueeze } from './grads/Unsqueeze.js';
import { Where } from './grads/Where.js';

export const RULES: Readonly<Record<string, OpGrad>> = {
  Abs,
  Add,
  Cast,
  Ceil,
  Clip,
  Concat,
  Conv,
  Div,
  Erf,
  Exp,
  Expand,
  Flatten,
  Floor,
  Gather,
  Gemm,
  GlobalAveragePool,
  Identity,
  InstanceNormalization,
  LayerNormalization,
  Log,
  MatMul,
  Max,
  MaxPool,
  Min,
  Mul,
  Neg,
  Pad,
  Pow,
  ReduceMean,
  ReduceSum,
  Relu,
  Reshape,
  Resize,
  Round,
  Sigmoid,
  Slice,
  Softmax,
  Split,
  Sqrt,
  Squeeze,
  Sub,
  Sum,
  Tanh,
  Transpose,
  Unsqueeze,
  Where,
};

/** The op types that have a gradient rule or decompose into ops that do. */
export const differentiableOps: readonly string[] = Object.keys(RULES);
