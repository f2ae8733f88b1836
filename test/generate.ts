/**
 * Mocha setup (`require` in .mocharc.json, after tsx): writes the compiled
 * twins under src/generated/twins/ before any spec is loaded, so tests that
 * import `src/twins/registry.ts` work on a clean clone without a build.
 * Unchanged files are left alone.
 */

import { writeTwins } from '../scripts/gen-twins';

writeTwins();
