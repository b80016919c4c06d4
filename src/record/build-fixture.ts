import { formatTolerance } from '../output/format-number.js';
import type { FixtureV1 } from '../output/fixture-json.js';
import type { Tool } from '../output/render-json.js';
import { InputError } from '../input/input-error.js';
import { METHOD_LABEL, verify, type Report, type VerifyInput, type VerifyOptions } from '../verify.js';

export interface FixtureLabels {
  /** `--name`, else the input's own name, else `fallbackName`. */
  readonly name?: string;
  readonly fallbackName?: string;
  readonly description?: string;
  /** `--source`: who produced the expected values of an input that carries them. */
  readonly source?: string;
}

export type BuiltFixture =
  | { readonly ok: true; readonly fixture: FixtureV1; readonly computedBy?: Report }
  | { readonly ok: false; readonly report: Report };

/**
 * The fixture `record` writes for an input.
 *
 * An input that carries expected values (a dump from a kernel or PyTorch) keeps them and their
 * source. Otherwise the values come from this tool: both methods run, and only when they agree is
 * the closed form's result recorded, with a source that says so; when they disagree there is no
 * trustworthy value to record, and the report comes back instead.
 */
export function buildFixture(
  input: VerifyInput,
  labels: FixtureLabels,
  tool: Tool,
  options: Pick<VerifyOptions, 'jacobianSkipped' | 'jacobianResult'> = {},
): BuiltFixture {
  const name = labels.name ?? input.name ?? labels.fallbackName;
  if (name === undefined || name === '') throw new InputError('--name is missing: give the fixture a name');
  const common = {
    name,
    description: labels.description ?? input.description,
    dtype: input.dtype,
    dim: input.dim,
    tolerance: input.tolerance,
    x: input.x,
    g: input.g,
  };
  if (input.expected !== undefined) {
    const source = labels.source ?? input.source;
    if (source === undefined) {
      throw new InputError('source is missing: say who produced the expected values, with --source or a "source" field');
    }
    return { ok: true, fixture: { ...common, source, expected: input.expected } };
  }
  if (labels.source !== undefined) {
    throw new InputError('--source names who produced expected values, but the input has none: softmax-verify computes them, and says so');
  }
  const report = verify(input, options);
  if (!report.passed) return { ok: false, report };
  const { rtol, atol } = report.tolerance;
  const source =
    `${tool.name} ${tool.version}: closed form dx = s ⊙ (g − ⟨s, g⟩) in ${report.arithmetic.dtype}, agreeing with the ` +
    `${METHOD_LABEL[report.witness]} within what rounding allows at rtol ${formatTolerance(rtol)}, atol ${formatTolerance(atol)}`;
  return {
    ok: true,
    fixture: { ...common, source, expected: { softmax: report.results.closedForm.softmax, grad: report.results.closedForm.grad } },
    computedBy: report,
  };
}
