import type { OpExample } from '../op-definition.js';
import { softmaxExample } from '../softmax/example.js';

/**
 * The same x and g through log_softmax (`--op log_softmax` with no input), with PyTorch's values
 * from `fixtures/family/log-softmax-seed.json` (a test keeps the two equal).
 */
export function logSoftmaxExample(): OpExample {
  return {
    ...softmaxExample(),
    label: 'built-in example: x = 1..9, g = 11..19, log_softmax',
    name: 'log-softmax-seed',
    op: 'log_softmax',
    source: 'PyTorch 1.13.0a0 (Debian python3-torch): F.log_softmax(x, dim=-1) then .backward(g), dtype float64, CPU',
    expected: {
      forward: Float64Array.of(
        -8.458551727967379, -7.458551727967379, -6.458551727967379, -5.458551727967379, -4.458551727967379,
        -3.4585517279673788, -2.4585517279673788, -1.4585517279673788, -0.45855172796737875,
      ),
      grad: Float64Array.of(
        10.971369335480164, 11.922173784899021, 12.788446413713263, 13.424937730651422, 13.436818682997341,
        11.750832631404991, 5.449565555867052, -13.397336060294045, -66.3468080747192,
      ),
    },
  };
}
