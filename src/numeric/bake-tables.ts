import { powersOfTwoToBake } from './accurate-exp.js';
import { type BakedTables } from './baked-tables.js';
import { expTableToBake } from './double-double-exp.js';

/**
 * The text of `numeric/baked-tables.ts` as the bundle has it (rolldown.config.mjs runs this on
 * tsc's output): the tables computed here, now. Each list of numbers is written as the base64 of
 * its float64s, little-endian, which reads back bit for bit (−0 included), costs the bundle 11
 * characters a number where decimal would cost 20 to 25, and is copied into a Float64Array whole
 * (number by number only on a big-endian machine).
 */
export function bakedTablesSource(): string {
  const tables: BakedTables = { exp: expTableToBake(), powersOfTwo: powersOfTwoToBake() };
  return (
    `const float64s = (base64) => {\n` +
    `  const bytes = Buffer.from(base64, 'base64');\n` +
    `  const values = new Float64Array(bytes.byteLength / 8);\n` +
    `  if (new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f) new Uint8Array(values.buffer).set(bytes);\n` +
    `  else values.forEach((_, i) => (values[i] = bytes.readDoubleLE(8 * i)));\n` +
    `  return values;\n` +
    `};\n` +
    `export const BAKED_TABLES = ${literal(tables)};\n`
  );
}

function literal(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value) || value instanceof Float64Array) return `float64s(${JSON.stringify(float64Base64(value))})`;
  if (typeof value === 'object' && value !== null) return `{ ${Object.entries(value).map(([key, v]) => `${key}: ${literal(v)}`).join(', ')} }`;
  throw new Error(`cannot bake a ${typeof value}`);
}

function float64Base64(values: ArrayLike<unknown>): string {
  const view = new DataView(new ArrayBuffer(8 * values.length));
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== 'number') throw new Error(`cannot bake a ${typeof value} among float64s`);
    view.setFloat64(8 * i, value, true);
  }
  return Buffer.from(view.buffer).toString('base64');
}
