import { describe, expect, test } from 'vitest';
import { formatDifference, formatTolerance, formatValue } from '../../src/output/format-number.js';

describe('formatValue', () => {
  test.each([
    [0.00021207899644323428, 8, '0.000212079'],
    [0.6321985783312535, 8, '0.63219858'],
    [-0.0015734425183195247, 8, '-0.0015734425'],
    [0.5, 8, '0.5'],
    [1000, 8, '1000'],
    [2.5e-17, 8, '2.5e-17'],
    [1.234567891e-5, 4, '1.235e-5'],
    [12345678, 3, '1.23e7'],
    [0, 8, '0'],
    [-0, 8, '0'],
    [NaN, 8, 'NaN'],
    [Infinity, 8, 'Infinity'],
    [-Infinity, 8, '-Infinity'],
  ])('%d at %i digits is %s', (value, precision, text) => {
    expect(formatValue(value, precision)).toBe(text);
  });
});

describe('formatDifference', () => {
  test.each([
    [1.1102230246251565e-16, '1.11e-16'],
    [-5.2e-18, '-5.2e-18'],
    [0.5, '0.5'],
    [6.4, '6.4'],
    [1.5e-3, '0.0015'],
    [12345, '1.23e4'],
    [0, '0'],
    [NaN, 'NaN'],
  ])('%d is %s', (value, text) => {
    expect(formatDifference(value)).toBe(text);
  });
});

describe('formatTolerance', () => {
  test.each([
    [1e-7, '1e-7'],
    [1.3e-6, '1.3e-6'],
    [1e-5, '1e-5'],
    [1.6e-2, '0.016'],
    [0.001, '0.001'],
    [0, '0'],
  ])('%d is %s', (value, text) => {
    expect(formatTolerance(value)).toBe(text);
  });
});
