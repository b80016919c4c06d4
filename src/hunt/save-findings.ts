import { join } from 'node:path';
import type { Tool } from '../core/tool.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import { fixtureToJson } from '../output/fixture-json.js';
import { buildFixture } from '../record/build-fixture.js';
import type { Finding, HuntRun } from './run-hunt.js';

/**
 * Each shrunk verdict failure as a fixture v1 file in `folder` (the kernel's outputs as its
 * expected values, its source naming the kernel command), so that `softmax-verify check folder`
 * fails on it until the kernel is fixed. A kernel that broke (crashed, hung, spoke outside the
 * protocol) left no outputs to record: its findings are reported, not saved. Returns the paths.
 */
export function saveFindings(run: HuntRun, folder: string, tool: Tool, cwd: string): Map<Finding, string> {
  const saved = new Map<Finding, string>();
  // Ways of failing that shrank to the same case make one fixture, not several.
  const written = new Map<string, string>();
  run.findings.forEach((finding, k) => {
    if (finding.report === undefined) return;
    const key = JSON.stringify([finding.shrunk.dim, finding.shrunk.x.shape, Array.from(finding.shrunk.x.data, String), Array.from(finding.shrunk.g.data, String), Object.keys(finding.shrunk.fields)]);
    const same = written.get(key);
    if (same !== undefined) {
      saved.set(finding, same);
      return;
    }
    const name = `hunt-${run.plan.op}-${run.plan.dtype}-seed${run.plan.seed}-${k + 1}`;
    const description = `found by softmax-verify hunt (seed ${run.plan.seed}) in the input class "${finding.klass}"; fails: ${finding.signature}`;
    const built = buildFixture(finding.report.input, { name, description }, tool, finding.report, { allowMismatch: true });
    if (!built.ok) return;
    const path = join(folder, `${name}.json`);
    writeFileAtomic(path, fixtureToJson(built.fixture), true, cwd);
    saved.set(finding, path);
    written.set(key, path);
  });
  return saved;
}
