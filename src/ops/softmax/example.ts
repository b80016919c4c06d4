import type { OpExample } from '../op-definition.js';

/**
 * The run with no arguments: the worked example this tool grew from, which checked a numpy
 * explicit-Jacobian softmax against PyTorch autograd for x = 1..9, g = 11..19.
 *
 * The expected values are PyTorch's, copied from `fixtures/pytorch/seed.json` (a test keeps the
 * two equal), so the default run also shows both methods landing on PyTorch's numbers.
 */
export function softmaxExample(): OpExample {
  const x = Float64Array.from({ length: 9 }, (_, i) => i + 1);
  const g = Float64Array.from({ length: 9 }, (_, i) => i + 11);
  return {
    label: 'built-in example: x = 1..9, g = 11..19',
    op: 'softmax',
    name: 'seed',
    source: 'PyTorch 1.13.0a0 (Debian python3-torch): torch.softmax(x, dim=-1) then .backward(g), dtype float64, CPU',
    x: { shape: [9], data: x },
    g: { shape: [9], data: g },
    dim: -1,
    axis: 0,
    dtype: 'float64',
    expected: {
      forward: Float64Array.of(
        0.00021207899644323428, 0.0005764904822294743, 0.0015670636021239718, 0.004259720513693168,
        0.011579120866686367, 0.03147531384144451, 0.08555877366024407, 0.23257285970588185,
        0.6321985783312535,
      ),
      grad: Float64Array.of(
        -0.0015734425183195247, -0.003700569723443328, -0.00849212783205774, -0.018824276257140695,
        -0.03959056721699223, -0.07614300560289189, -0.12141937483435221, -0.09747922052919523,
        0.36722258451439016,
      ),
    },
  };
}
