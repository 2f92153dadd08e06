// Default size limits for untrusted models: a small file must not be able to ask for huge allocations.

export interface ReadLimits {
  /** Largest single tensor, in bytes (default 4 GiB). */
  maxTensorBytes: number;
  /** Most nodes across the graph and its subgraphs (default 1,000,000). */
  maxNodes: number;
  /** Largest model file (default 2 GiB, the protobuf limit). */
  maxFileBytes: number;
}

export const DEFAULT_LIMITS: ReadLimits = {
  maxTensorBytes: 4 * 1024 ** 3,
  maxNodes: 1_000_000,
  maxFileBytes: 2 * 1024 ** 3,
};
