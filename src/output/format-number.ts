/**
 * Numbers as the reports print them.
 *
 * Values get `precision` significant digits, in plain notation where that stays short
 * (1e-4 ≤ |v| < 1e7) and in exponent notation elsewhere, with trailing zeros dropped:
 * 0.00021207899644 at 8 digits prints `0.000212079`, 0.63219857833 prints `0.63219858`.
 * Non-finite values print as the tokens the input accepts: `NaN`, `Infinity`, `-Infinity`.
 */
export function formatValue(value: number, precision: number): string {
  if (!Number.isFinite(value)) return nonFinite(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  const text = magnitude >= 1e-4 && magnitude < 1e7 ? value.toPrecision(precision) : value.toExponential(precision - 1);
  return trimZeros(text);
}

/** Differences are read for their size: three significant digits, in exponent form when small. */
export function formatDifference(value: number): string {
  if (!Number.isFinite(value)) return nonFinite(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return trimZeros(magnitude >= 1e-3 && magnitude < 1e4 ? value.toPrecision(3) : value.toExponential(2));
}

/** Tolerances as a user would type them: `1e-7`, `1.3e-6`, `0.05`. */
export function formatTolerance(value: number): string {
  if (!Number.isFinite(value)) return nonFinite(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude >= 1e-3 && magnitude < 1e6 ? String(value) : trimZeros(value.toExponential());
}

function nonFinite(value: number): string {
  if (value !== value) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

/** `1.2300e-5` → `1.23e-5`, `0.50` → `0.5`, `2.000` → `2`; the exponent keeps its sign. */
function trimZeros(text: string): string {
  const [mantissa, exponent] = text.split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
  if (exponent === undefined) return trimmed;
  return `${trimmed}e${exponent.replace('+', '')}`;
}
