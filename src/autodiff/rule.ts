// The contract of a gradient rule (grads/<OpType>.ts) and the context it runs in. A rule sees one forward node at
// a time: the gradients flowing into its outputs, which inputs need a gradient, concrete shapes, and the emitter.
// It returns one gradient per input (undefined: none). A composite op may instead decompose itself into
// primitive forward ops, whose own rules then apply. Imports the emitter and unbroadcast only.

import type { Node } from '../onnx/ir.js';
import { Emitter, type GradDType } from './emitter.js';
import { unbroadcast } from './unbroadcast.js';

export class GradContext extends Emitter {
  private current: Node | undefined;
  private dys: readonly (string | undefined)[] = [];
  private need: readonly boolean[] = [];

  /** Moves the context to `node`, with the gradients of its outputs and which inputs need one. */
  enter(node: Node, dys: readonly (string | undefined)[], need: readonly boolean[]): void {
    this.current = node;
    this.dys = dys;
    this.need = need;
    this.at(node, 'grad');
  }

  get node(): Node {
    if (this.current === undefined) throw new Error('GradContext used outside a rule');
    return this.current;
  }

  /** Name of input i ('' when absent). */
  x(i: number): string {
    return this.node.inputs[i] ?? '';
  }

  y(i = 0): string {
    return this.node.outputs[i] ?? '';
  }

  /** Gradient flowing into output i; undefined when nothing downstream of it reaches the loss. */
  dy(i = 0): string | undefined {
    return this.dys[i];
  }

  /** The gradient of output 0, which every rule for a single-output op receives. */
  get dy0(): string {
    const d = this.dys[0];
    if (d === undefined) throw new Error(`node ${this.node.name}: no gradient for output 0`);
    return d;
  }

  needs(i: number): boolean {
    return this.need[i] ?? false;
  }

  xShape(i: number): number[] {
    return this.shape(this.x(i));
  }

  yShape(i = 0): number[] {
    return this.shape(this.y(i));
  }

  /** dtype of the node's gradients (that of its first output). */
  get dt(): GradDType {
    return this.dtype(this.y(0));
  }

  /** Reduces `grad` (shaped like output 0 unless `from` says otherwise) to the shape of input i. */
  toInput(grad: string, i: number, from: readonly number[] = this.yShape(0)): string {
    return unbroadcast(this, grad, from, this.xShape(i));
  }
}

export interface OpGrad {
  /** Input gradients from output gradients. */
  grad?: (g: GradContext) => readonly (string | undefined)[];
  /**
   * Replaces `node` by primitive ops computing the same outputs under the same names (the node is already
   * removed from the graph when this runs).
   */
  decompose?: (e: Emitter, node: Node) => void;
}
