import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import type { AppError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { createTempFiles, type TempFiles } from '../../../src/mirrord/config-file.js';
import { GroupReaper, SpawnGate } from '../../../src/mirrord/process-group.js';
import { parseTarget } from '../../../src/mirrord/target.js';
import { RunRegistry } from '../../../src/runs/registry.js';
import { createRunService, type RunRequest, type RunService } from '../../../src/runs/run-service.js';
import { fixturesBin } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/processes.js';

let dir: string;
let tempFiles: TempFiles;
let registry: RunRegistry;
let service: RunService;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mms-service-queue-'));
  tempFiles = await createTempFiles(dir);
  const config = loadConfig({ flags: { run: { maxPerIdentity: 1, killGraceMs: 300 } } });
  registry = new RunRegistry({
    maxConcurrent: config.run.maxConcurrent,
    maxPerIdentity: config.run.maxPerIdentity,
    maxQueued: config.run.maxQueued,
    timeoutMs: config.run.queueTimeoutS * 1000,
  });
  service = createRunService({
    config,
    logger: createLogger('silent'),
    registry,
    tempFiles,
    reaper: new GroupReaper(),
    gate: new SpawnGate(),
    serverEnv: { PATH: `${fixturesBin}:${process.env.PATH ?? ''}`, HOME: dir },
  });
});

afterAll(async () => {
  await registry.shutdown();
  await tempFiles.dispose();
  await rm(dir, { recursive: true, force: true });
});

function request(caller: string, command: string): RunRequest {
  return {
    command,
    target: parseTarget('targetless'),
    namespace: 'default',
    callerConfig: {},
    env: {},
    cwd: dir,
    timeoutMs: 20_000,
    setupTimeoutMs: 20_000,
    notes: [],
    caller,
  };
}

describe('RunService: the per-identity limit', () => {
  it("queues an identity's run beyond run.maxPerIdentity while another identity's run starts at once", async () => {
    const gate = join(dir, 'alice-first');
    const alice = await service.start(
      request(
        'alice',
        `touch ${gate}.started; while [ ! -e ${gate}.release ]; do sleep 0.05; done; echo first`,
      ),
    );
    expect(
      await waitFor(
        () => existsSync(`${gate}.started`),
        (value) => value,
        10_000,
      ),
    ).toBe(true);

    const progress: string[] = [];
    const aliceSecond = await service.start(request('alice', 'echo second'), {
      onProgress: (event) => progress.push(event.message),
    });
    expect(aliceSecond.queued()).toMatchObject({ position: 1, queued: 1 });
    expect(progress).toEqual([
      'queued: position 1 of 1, waiting for your limit of 1 runs at once (run.maxPerIdentity)',
    ]);

    const bob = await service.start(request('bob', 'echo bob'));
    expect(bob.queued()).toBeUndefined();
    const bobResult = await bob.done;
    expect(bobResult.exitCode).toBe(0);
    expect(bobResult.notes.join('\n')).not.toMatch(/in the queue/);
    expect(bobResult.stdout.text).toBe('bob\n');
    expect(aliceSecond.queued()).toBeDefined();

    await writeFile(`${gate}.release`, '');
    expect((await alice.done).stdout.text).toBe('first\n');
    const second = await aliceSecond.done;
    expect(second.stdout.text).toBe('second\n');
    expect(second.notes.join('\n')).toMatch(/in the queue for your limit of 1 runs at once/);
    expect(registry.size).toBe(0);
    expect(registry.queued).toBe(0);
  });

  it('a queued run that is stopped never spawns and frees its place', async () => {
    const gate = join(dir, 'alice-hold');
    const holder = await service.start(
      request('alice', `touch ${gate}.started; while [ ! -e ${gate}.release ]; do sleep 0.05; done`),
    );
    expect(
      await waitFor(
        () => existsSync(`${gate}.started`),
        (value) => value,
        10_000,
      ),
    ).toBe(true);
    const marker = join(dir, 'never-ran');
    const queued = await service.start(request('alice', `touch ${marker}`));
    queued.stop();
    const error = (await queued.done.catch((reason: unknown) => reason)) as AppError;
    expect(error.code).toBe('CANCELLED');
    expect(registry.queued).toBe(0);
    await writeFile(`${gate}.release`, '');
    await holder.done;
    expect(existsSync(marker)).toBe(false);
    expect(registry.size).toBe(0);
  });
});
