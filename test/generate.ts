/**
 * Mocha setup (`require` in .mocharc.json, after tsx): writes the generated
 * sources before any spec is loaded — the compiled twins under
 * src/generated/twins/ and the WASM kernels' bytes in
 * src/runtime/wasm/kernels.generated.ts — so tests work on a clean clone
 * without a build. Unchanged outputs are left alone.
 */

import { writeTwins } from '../scripts/gen-twins';
import { writeWasm } from '../scripts/gen-wasm';

writeWasm();
writeTwins();
