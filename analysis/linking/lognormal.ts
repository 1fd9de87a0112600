// Log-normal fit by maximum likelihood (mean and standard deviation of ln x) for the delays of
// the call model. Delays can be 0 µs (clock granularity), so the variable is x + 1 µs.
// σ has a floor: with few or identical samples a zero-width fit would make every other value
// impossible (−∞ log-likelihood), and the timestamps themselves carry ~1 µs of noise.

export interface LogNormal {
  mu: number;
  sigma: number;
  n: number;
}

const SIGMA_FLOOR = 0.05;

export function fitLogNormal(samples: readonly number[]): LogNormal {
  if (samples.length === 0) return { mu: 0, sigma: 10, n: 0 }; // uninformative
  let sum = 0;
  for (const x of samples) sum += Math.log(Math.max(0, x) + 1);
  const mu = sum / samples.length;
  let sq = 0;
  for (const x of samples) sq += (Math.log(Math.max(0, x) + 1) - mu) ** 2;
  const sigma = Math.max(SIGMA_FLOOR, Math.sqrt(sq / samples.length));
  return { mu, sigma, n: samples.length };
}

/** Log density at x (µs), natural log. */
export function logNormalLogPdf(d: LogNormal, x: number): number {
  const y = Math.max(0, x) + 1;
  const z = (Math.log(y) - d.mu) / d.sigma;
  return -0.5 * z * z - Math.log(d.sigma * y * Math.sqrt(2 * Math.PI));
}

/**
 * The log density of `d`, made log-concave: unchanged up to x* = e^(μ + 1 − σ²) − 1, where its
 * negative stops being convex; beyond, the negative continues along its tangent at x* plus
 * (x − x*)² / (4·var), var the distribution's variance. A log-normal's tail is log-convex, so an
 * assignment scored with it prefers one short and one long delay over two medium ones — two
 * requests crossing. Under a convex cost the cheapest assignment of reactions to causes keeps
 * their order instead (a Monge cost: the sorted matching is optimal), which is what an app with
 * one event loop does (assign-chains.ts uses it when it explains a window better).
 */
export function orderedLogPdf(d: LogNormal, x: number): number {
  const s2 = d.sigma * d.sigma;
  const yStar = Math.exp(d.mu + 1 - s2);
  const y = Math.max(0, x) + 1;
  if (y <= yStar) return logNormalLogPdf(d, x);
  // d/dy of −log f at y*: ((ln y* − μ)/σ² + 1) / y* = (1/σ²) / y* (since ln y* − μ = 1 − σ²)
  const slope = 1 / (s2 * yStar);
  const variance = (Math.exp(s2) - 1) * Math.exp(2 * d.mu + s2);
  const dy = y - yStar;
  return logNormalLogPdf(d, yStar - 1) - slope * dy - (dy * dy) / (4 * variance);
}
