import { opDefinition } from '../ops/index.js';
import { formatTolerance } from '../output/format-number.js';
import type { FixtureV1 } from '../output/fixture-json.js';
import type { Tool } from '../core/tool.js';
import { InputError } from '../input-error.js';
import { METHOD_LABEL, quantityShape, type Report, type VerifyInput } from '../core/report.js';

/** What each op's closed form computes, for the source of the values `record` computed. */
export interface FixtureLabels {
  /** `--name`, else the input's own name, else `fallbackName`. */
  readonly name?: string;
  readonly fallbackName?: string;
  readonly description?: string;
}

export interface RecordOptions {
  /** `--allow-mismatch`: record a dump's expected values even when they fail the verdict. */
  readonly allowMismatch?: boolean;
}

export type BuiltFixture =
  /** `report` is the verdict on what was recorded (it failed only under allowMismatch). */
  | { readonly ok: true; readonly fixture: FixtureV1; readonly report: Report }
  | { readonly ok: false; readonly report: Report; readonly why: 'methods-disagree' | 'expected-mismatch' };

/**
 * The fixture `record` writes for an input, and the verdict on it.
 *
 * An input that carries expected values (a dump from a kernel or PyTorch) keeps them and their
 * source, once they pass the verdict: a dump whose gradient forgot ⟨s, g⟩ must not become the
 * reference every later run is judged by (unless `allowMismatch`, for a known-bad case). Otherwise
 * the values come from this tool: both methods run, and only when they agree is the closed form's
 * result recorded, with a source that says so; when they disagree there is no trustworthy value to
 * record, and the report comes back instead.
 *
 * `report` is the run on `input` (src/core/run.ts, or `verify`): the fixture is built from what it
 * found, and nothing is computed here.
 */
export function buildFixture(input: VerifyInput, labels: FixtureLabels, tool: Tool, report: Report, options: RecordOptions = {}): BuiltFixture {
  const name = labels.name ?? input.name ?? labels.fallbackName;
  if (name === undefined || name === '') throw new InputError('--name is missing: give the fixture a name');
  const common = {
    op: input.op,
    name,
    description: labels.description ?? input.description,
    dtype: input.dtype,
    dim: input.dim,
    tolerance: input.tolerance,
    arithmetic: input.arithmetic,
    x: input.x,
    // Forward only, the fixture has no g (and records no gradient): a check of it is forward only too.
    g: input.forwardOnly ? undefined : input.g,
    spec: input.spec,
    forwardShape: quantityShape(input, 'forward'),
  };
  const { allowMismatch } = options;
  if (input.expected !== undefined) {
    const { source } = input;
    if (source === undefined) {
      throw new InputError(
        'source is missing: say who produced the expected values, with --source (or in the input: a JSON "source" field, a safetensors __metadata__ "source")',
      );
    }
    if (!report.passed && !allowMismatch) return { ok: false, report, why: 'expected-mismatch' };
    return { ok: true, fixture: { ...common, source, expected: input.expected }, report };
  }
  if (!report.passed) return { ok: false, report, why: 'methods-disagree' };
  const { rtol, atol } = report.tolerance;
  const source =
    `${tool.name} ${tool.version}: closed form ${input.forwardOnly ? opDefinition(input.op).words.closedFormForward : opDefinition(input.op).words.closedForm} in ${report.arithmetic.dtype}, agreeing with the ` +
    `${METHOD_LABEL[report.witness]} within what rounding allows at rtol ${formatTolerance(rtol)}, atol ${formatTolerance(atol)}`;
  return {
    ok: true,
    fixture: { ...common, source, expected: { forward: report.results.closedForm.forward, grad: input.forwardOnly ? undefined : report.results.closedForm.grad } },
    report,
  };
}
