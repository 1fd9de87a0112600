// `npm run setup` step: compiles the Go sample service of `meshtrace up` ahead of time, so the
// first `up` (and its test) does not spend minutes compiling Go's standard library.
import { buildPricing, prerequisites } from './prerequisites.ts';

const { goBin } = prerequisites();
if (!goBin) {
  console.error('[setup] go not found: meshtrace up will report it');
  process.exit(0);
}
console.log(`[setup] Go sample service built: ${buildPricing(goBin, (l) => console.log(`[setup]${l}`))}`);
