/**
 * Below this many explicit-Jacobian entries a run stays on one thread: a worker's start-up (some
 * 30 ms) would cost more than it saves. A GPT-2 row (2.5e9 entries) runs in half the time on two.
 */
export const PARALLEL_ENTRY_THRESHOLD = 5e7;
