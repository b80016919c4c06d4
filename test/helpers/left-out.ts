import type { OverBudget } from '../../src/core/budget.js';

/** For tests that judge expected values alone: verify leaves the explicit Jacobian out, as over its budget. */
export const JACOBIAN_LEFT_OUT: OverBudget = { kind: 'jacobian', entries: 0, limit: 0, seconds: 0 };
