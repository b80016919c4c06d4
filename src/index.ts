/**
 * softmax-verify as a library: the same run as the command line, on values you already hold.
 *
 * @example
 *   import { verify } from 'softmax-verify';
 *   const report = await verify({ x: [1, 2, 3], g: [1, 0, 0], expected: { grad: myKernelGrad } });
 *   report.passed; // true when both methods agree and the expected values are within rounding
 */
export { verify, type VerifyRequest, type Values } from './core/library.js';
export { check, readInput, toJson, type CheckRequest, type InputSettings } from './core/library.js';
export { hunt, type HuntRequest, type HuntResult, type KernelCase, type KernelResults } from './core/library-hunt.js';
export type { Finding } from './hunt/run-hunt.js';
export { REFERENCE_CHOICES, type ReferenceChoice, type RunOptions } from './core/run.js';
export { TOOL, type Tool } from './core/tool.js';
export { OverBudgetError, type OverBudget, type BudgetKind } from './core/budget.js';
export { RunRefusalError, type RunRefusal } from './core/run-refusal.js';
export { InputError } from './input-error.js';
export { RequestError, type RequestProblem } from './input/request-problem.js';
export { DTYPES, DEFAULT_TOLERANCE, type DType, type Tolerance } from './dtype.js';
export type { Report, VerifyInput, Comparison, MethodId, Quantity, Side } from './core/report.js';
export type { CheckRun } from './check/run-check.js';
export type { FixtureOutcome } from './check/check-fixture.js';
export type { ArithmeticTypes } from './numeric/arithmetic.js';
export type { Tensor } from './tensor.js';
// An op's own checked fields (report.input.spec), discriminated by `op`: Extract<OpSpec, { op: 'cross_entropy' }> is one op's.
export type { OpSpec } from './ops/op-definition.js';
