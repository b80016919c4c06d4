import mathjs from 'mathjs/lib/browser/math.js';

/** The part of a mathjs BigNumber (decimal.js) the exact-value tests use. */
export interface Decimal {
  exp(): Decimal;
  pow(other: Decimal): Decimal;
  minus(other: Decimal): Decimal;
  plus(other: Decimal): Decimal;
  div(other: Decimal): Decimal;
  times(other: Decimal): Decimal;
  abs(): Decimal;
  toNumber(): number;
}

/** A BigNumber constructor working to `precision` significant digits, for exact references in tests. */
export function decimalWithPrecision(precision: number): new (value: string) => Decimal {
  const math = mathjs.create(mathjs.all, { number: 'BigNumber' }) as unknown as {
    BigNumber: { clone(config: { precision: number }): new (value: string) => Decimal };
  };
  return math.BigNumber.clone({ precision });
}
