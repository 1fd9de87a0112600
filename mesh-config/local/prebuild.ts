// `npm run setup` step: compiles the Go services ahead of time — the sample service of
// `meshtrace up` and the legacy inventory service of the linking tests and bench — so their
// first use does not spend minutes compiling Go's standard library.
import { join } from 'node:path';
import { repoRoot } from '../../core/envoy-binary.ts';
import { buildGoService, buildPricing, prerequisites } from './prerequisites.ts';

const { goBin } = prerequisites();
if (!goBin) {
  console.error('[setup] go not found: meshtrace up and the linking tests will report it');
  process.exit(0);
}
console.log(`[setup] Go sample service built: ${buildPricing(goBin, (l) => console.log(`[setup]${l}`))}`);
const legacy = join(repoRoot, 'examples', 'legacy', 'inventory');
console.log(
  `[setup] Go legacy service built: ${buildGoService(goBin, legacy, 'legacy-inventory', (l) => console.log(`[setup]${l}`))}`,
);
