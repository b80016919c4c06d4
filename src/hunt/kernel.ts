import type { Tensor } from '../tensor.js';
import type { HuntCase } from './hunt-case.js';

/**
 * What a kernel answered for one case: its results (the op's forward output and the input
 * gradient, any float values), a declined case (counted, not a failure), or a kernel that broke
 * (a finding of its own: it crashed, spoke outside the protocol, or took too long).
 */
export type KernelAnswer =
  | { readonly kind: 'results'; readonly forward: Tensor; readonly grad: Tensor }
  | { readonly kind: 'declined'; readonly reason: string }
  | { readonly kind: 'crash' | 'protocol-error' | 'hang'; readonly detail: string };

/** A kernel under hunt: in process (the library's), or a command speaking the protocol (kernel-process.ts). */
export interface Kernel {
  /** How findings name it: the command line, or "the kernel function". */
  readonly name: string;
  run(hunted: HuntCase): Promise<KernelAnswer>;
  /** Stops a process the kernel runs in. */
  close(): Promise<void>;
}
