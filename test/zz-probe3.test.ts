import { test } from 'vitest';
import { loadBigNumberReference } from '../src/reference/bignumber-reference.js';
import { doubleDoubleReferenceSlice } from '../src/reference/double-double-reference.js';
test('probe', async () => {
  const x = Float64Array.from([0,0,10.472208023071289,0,0,0,0,0]);
  const g = Float64Array.from([0,0,-7.246762663461502e-63,999.9999999999984,0,0,-999.9999999999984,0]);
  const big = await loadBigNumberReference();
  const s1 = new Float64Array(8), d1 = new Float64Array(8), s2 = new Float64Array(8), d2 = new Float64Array(8);
  const certain = doubleDoubleReferenceSlice(x, g, s1, d1);
  big(x, g, s2, d2);
  console.log('certain', certain);
  for (let i = 0; i < 8; i++) console.log(i, s1[i], s2[i], d1[i], d2[i], d1[i] === d2[i] ? '' : 'DIFF');
});
