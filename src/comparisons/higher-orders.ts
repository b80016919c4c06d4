/**
 * μ from its first-order value: μ/(1 − μ) bounds the higher orders too, infinite from 1; below
 * 1/2 the bound μ(1 + 2μ), which is above it, saves a division per element.
 */
export function withHigherOrders(firstOrder: number): number {
  if (firstOrder < 0.5) return firstOrder * (1 + 2 * firstOrder);
  return firstOrder < 1 ? firstOrder / (1 - firstOrder) : Infinity;
}
