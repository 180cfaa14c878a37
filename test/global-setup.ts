import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, fixturesBin } from './helpers/paths.js';

/** Runs once before the suite: `npm test` builds dist/ first (pretest); make sure it did. */
export function setup(): void {
  if (!existsSync(cliPath))
    throw new Error(`${cliPath} is missing: run "npm run build" (npm test does it for you)`);
  // git keeps the mode, but a copied checkout may not: the fake mirrord must be executable.
  const fake = join(fixturesBin, 'mirrord');
  if (existsSync(fake)) chmodSync(fake, 0o755);
}
