/** A measured number as a hypothesis's message gives it: whole, or to 4 significant digits (1.05, 0.01, 32000). */
export function messageNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}
