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
