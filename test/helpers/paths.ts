import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesBin = join(repoRoot, 'test', 'fixtures', 'bin');
export const cliPath = join(repoRoot, 'dist', 'cli.js');
/** The `mirrord-mcp-server` command as installed (package.json `bin`). */
export const binPath = join(repoRoot, 'dist', 'bin.cjs');
