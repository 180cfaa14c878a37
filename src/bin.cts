#!/usr/bin/env node
// The `mirrord-mcp-server` command. CommonJS on purpose: `sync` is a short-lived client that
// developers and assistants start often, and from here it loads the one-file CommonJS bundle of
// the sync client (`npm run build` makes it) without booting Node's ES module loader first, which
// was a third of a sync's start-up. Everything else goes to the ES module entry, dist/cli.js.
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS entry point */
import fs = require('node:fs');
import nodeModule = require('node:module');
import path = require('node:path');

type SyncCommand = typeof import('./sync/sync-command.js');

const argv = process.argv.slice(2);
const bundle = path.join(__dirname, 'sync', 'sync-command.cjs');

if (argv[0] === 'sync' && fs.existsSync(bundle)) {
  // Node 22+ keeps the compiled code between runs (its compile cache, under the temp directory).
  (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  const { runSyncCommand } = require(bundle) as SyncCommand;
  runSyncCommand(argv.slice(1)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`mirrord-mcp-server: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
} else {
  void import('./cli.js');
}
