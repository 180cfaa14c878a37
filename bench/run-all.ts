import { benchBigOutput } from './big-output.js';
import { benchConcurrentRuns } from './concurrent-runs.js';
import { benchIdleSessions } from './idle-sessions.js';
import { benchListTargets } from './list-targets.js';
import { benchRunOverhead } from './run-overhead.js';
import { benchSync } from './sync.js';

/** `npm run bench`: prints figures and ratios; it is not a test and asserts nothing. */
const sections: [string, () => Promise<string[]>][] = [
  ['overhead', () => benchRunOverhead()],
  ['output', () => benchBigOutput()],
  ['concurrency', () => benchConcurrentRuns()],
  ['sessions', () => benchIdleSessions()],
  ['sync', () => benchSync()],
  ['list-targets', () => benchListTargets()],
];

const only = process.argv.slice(2);
console.log(`mirrord-mcp-server benchmarks on Node ${process.version} (${new Date().toISOString()})`);
for (const [name, run] of sections) {
  if (only.length > 0 && !only.includes(name)) continue;
  try {
    for (const line of await run()) console.log(line);
  } catch (error) {
    console.log(`${name}: failed: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 1;
  }
}
