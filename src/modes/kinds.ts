/** The names the bench-modes command accepts, apart from the code that runs them (so --help loads nothing heavy). */
export const MODES = ['sequential', 'threads', 'async', 'fetch'] as const;
export type Mode = (typeof MODES)[number];

/** CPU work done on each body. */
export const WORK_KINDS = ['none', 'sha256', 'json'] as const;
export type WorkKind = (typeof WORK_KINDS)[number];
