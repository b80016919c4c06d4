import type { DType } from '../dtype.js';
import type { Finding, HuntRun } from '../hunt/run-hunt.js';
import type { HuntCase } from '../hunt/hunt-case.js';
import type { Kernel, KernelAnswer } from '../hunt/kernel.js';
import { runHunt } from '../hunt/run-hunt.js';
import { describeValue, InputError } from '../input-error.js';
import type { ArithmeticTypes } from '../numeric/arithmetic.js';
import { FORWARD_NAME, type Op } from '../op.js';
import type { FieldValue } from '../ops/op-definition.js';
import { readArithmetic, readDType, readFunction, readInteger, readObject, readOp, readValues, readValuesOrNumber } from './library-arguments.js';
import type { Values } from './library.js';

/** One case as a kernel function receives it: x and g (row-major, in the dtype's values), the op's own arrays, and its settings. */
export interface KernelCase {
  readonly x: { readonly shape: readonly number[]; readonly data: Float64Array };
  readonly g: { readonly shape: readonly number[]; readonly data: Float64Array };
  readonly target?: { readonly shape: readonly number[]; readonly data: Float64Array };
  readonly weight?: { readonly shape: readonly number[]; readonly data: Float64Array };
  readonly mask?: { readonly shape: readonly number[]; readonly data: Float64Array };
  /** op, dtype, dim, and the op's other fields by library name (reduction, labelSmoothing, ignoreIndex; scale, causal, maskedRows). */
  readonly options: Readonly<Record<string, string | number | boolean>>;
}

/** What a kernel function returns: the op's forward output under its name (softmax, log_softmax, loss) and grad. */
export type KernelResults = (Readonly<Partial<Record<'softmax' | 'log_softmax' | 'loss', Values | number>>> & { readonly grad: Values }) | { readonly declined: string };

export interface HuntRequest {
  readonly op?: Op;
  readonly dtype?: DType;
  readonly dim?: number;
  readonly kernel: (hunted: KernelCase) => KernelResults | Promise<KernelResults>;
  readonly seconds?: number;
  readonly cases?: number;
  readonly seed?: number;
  readonly arithmetic?: ArithmeticTypes;
  /** A case whose promise has not settled in this long is a hang (default 60; a synchronous kernel cannot be stopped). */
  readonly caseSeconds?: number;
}

export interface HuntResult {
  readonly cases: number;
  readonly declined: number;
  readonly failed: number;
  readonly seed: number;
  readonly failures: readonly Finding[];
  /** Each input class the hunt ran, in order: its cases, failed and declined. */
  readonly byClass: HuntRun['byClass'];
}

/**
 * Hunts for the inputs that break `request.kernel`, as `softmax-verify hunt` does: the same cases,
 * judge and shrinking. A kernel that throws crashed on that case (a finding); one that returns
 * `{ declined: 'why' }` declines it (counted); results that are not `{ <forward name>, grad }`
 * values are a `protocol-error` finding, and values of the wrong shape a `bad-output` one.
 */
export async function hunt(request: HuntRequest): Promise<HuntResult> {
  const fields = readObject(request, 'request', HUNT_FIELDS, `with ${HUNT_FIELDS.join(', ')}`);
  const kernel = readFunction<HuntRequest['kernel']>(fields.kernel, 'request.kernel');
  const op = fields.op === undefined ? 'softmax' : readOp(fields.op, 'request.op');
  const dtype = fields.dtype === undefined ? 'float32' : readDType(fields.dtype, 'request.dtype');
  const dim = fields.dim === undefined ? undefined : readInteger(fields.dim, 'request.dim');
  const count = (key: 'seconds' | 'cases' | 'caseSeconds', value: unknown) => {
    if (typeof value === 'number' && value > 0 && Number.isFinite(value)) return value;
    throw new InputError(`request.${key} must be a number above 0, got ${describeValue(value)}`);
  };
  const seconds = fields.seconds === undefined ? undefined : count('seconds', fields.seconds);
  const cases = fields.cases === undefined ? undefined : readInteger(count('cases', fields.cases), 'request.cases');
  const caseSeconds = fields.caseSeconds === undefined ? 60 : count('caseSeconds', fields.caseSeconds);
  const seed = fields.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : readInteger(fields.seed, 'request.seed');
  const arithmetic = fields.arithmetic === undefined ? undefined : readArithmetic(fields.arithmetic, 'request.arithmetic');
  const run = await runHunt({
    plan: { op, dtype, seed, ...(dim === undefined ? {} : { dim }) },
    kernel: functionKernel(kernel, caseSeconds),
    ...(seconds === undefined ? {} : { seconds }),
    ...(cases === undefined ? {} : { cases }),
    ...(arithmetic === undefined ? {} : { arithmetic }),
  });
  return { cases: run.cases, declined: run.declined, failed: run.failed, seed, failures: run.findings, byClass: run.byClass };
}

const HUNT_FIELDS = ['op', 'dtype', 'dim', 'kernel', 'seconds', 'cases', 'seed', 'arithmetic', 'caseSeconds'] as const;

/** A kernel function as the hunt's Kernel: its results read as the library reads values. */
function functionKernel(kernel: HuntRequest['kernel'], caseSeconds: number): Kernel {
  return {
    name: 'the kernel function',
    close: async () => {},
    async run(hunted: HuntCase): Promise<KernelAnswer> {
      let results: unknown;
      let timer: NodeJS.Timeout | undefined;
      try {
        // A promise that never settles is the function's hang; it is left behind, the hunt goes on.
        const late = new Promise<typeof TIMED_OUT>((resolve) => {
          timer = setTimeout(() => resolve(TIMED_OUT), caseSeconds * 1000);
        });
        results = await Promise.race([Promise.resolve().then(() => kernel(kernelCase(hunted))), late]);
      } catch (error) {
        return { kind: 'crash', detail: `it threw ${error instanceof Error ? `${error.name}: ${error.message}` : describeValue(error)}` };
      } finally {
        clearTimeout(timer);
      }
      if (results === TIMED_OUT) return { kind: 'hang', detail: `no answer within ${caseSeconds} s` };
      const name = FORWARD_NAME[hunted.op];
      const declined = (results as { declined?: unknown } | null)?.declined;
      if (typeof declined === 'string') return { kind: 'declined', reason: declined };
      try {
        const given = readObject(results, 'results', [name, 'grad'] as const, `with ${name} and grad`);
        if (given[name] === undefined || given.grad === undefined) throw new InputError(`results must have ${name} and grad`);
        return { kind: 'results', forward: readValuesOrNumber(given[name], `results.${name}`), grad: readValues(given.grad, 'results.grad') };
      } catch (error) {
        if (error instanceof InputError) return { kind: 'protocol-error', detail: error.message };
        throw error;
      }
    },
  };
}

/** What a case's race gives when its timeout passes first (no kernel result can be it). */
const TIMED_OUT = Symbol('timed out');

function kernelCase(hunted: HuntCase): KernelCase {
  const copy = (t: { readonly shape: readonly number[]; readonly data: Float64Array }) => ({ shape: [...t.shape], data: Float64Array.from(t.data) });
  const arrays: Record<string, { shape: number[]; data: Float64Array }> = {};
  const options: Record<string, string | number | boolean> = { op: hunted.op, dtype: hunted.dtype, dim: hunted.dim };
  for (const [key, value] of Object.entries(hunted.fields) as [string, FieldValue][]) {
    if (typeof value === 'object') arrays[key] = copy(value);
    else options[key] = value;
  }
  return { x: copy(hunted.x), g: copy(hunted.g), ...arrays, options };
}
