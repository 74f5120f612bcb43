/**
 * How many cases each property runs: a short run in `npm test`, a long one with `npm run fuzz`
 * (FUZZ_RUNS=…). A failure prints fast-check's seed and path; replay it with FUZZ_SEED=… FUZZ_PATH=….
 */
import type { Parameters as FcParameters } from 'fast-check';

/** fast-check parameters for one property; `scale` shrinks the count for costly properties. */
export function runs(scale = 1): FcParameters<unknown> {
  const total = Number(process.env.FUZZ_RUNS ?? 300);
  const parameters: FcParameters<unknown> = { numRuns: Math.max(1, Math.round(total * scale)) };
  if (process.env.FUZZ_SEED) parameters.seed = Number(process.env.FUZZ_SEED);
  if (process.env.FUZZ_PATH) parameters.path = process.env.FUZZ_PATH;
  return parameters;
}
