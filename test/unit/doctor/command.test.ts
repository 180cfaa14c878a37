import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { doctorCommand, doctorUsage } from '../../../src/doctor/command.js';
import { runSyncCommand, syncUsage } from '../../../src/sync/sync-command.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('doctor command line', () => {
  it.each([['--help'], ['-h']])(
    '%s prints the usage and exits 0 without reading any config',
    async (flag) => {
      const out = capture();
      const err = capture();
      // A config file that does not exist: --help must not get as far as loading it.
      const code = await doctorCommand(
        [flag, '--config', '/nonexistent/config.yaml'],
        {},
        out.stream,
        err.stream,
      );
      expect(code).toBe(0);
      expect(out.text()).toBe(doctorUsage);
      expect(out.text()).toMatch(/^Usage: mirrord-mcp-server doctor /);
      for (const option of ['--config', '--namespace', '--json', '--mirrord-bin', '--help'])
        expect(doctorUsage).toContain(option);
      expect(err.text()).toBe('');
    },
  );

  it('refuses an unknown option with exit 2 and points at --help', async () => {
    const out = capture();
    const err = capture();
    expect(await doctorCommand(['--bogus'], {}, out.stream, err.stream)).toBe(2);
    expect(err.text()).toMatch(/Unknown option '--bogus'/);
    expect(err.text()).toMatch(/doctor --help/);
    expect(out.text()).toBe('');
  });
});

describe('sync command line', () => {
  it.each([['--help'], ['-h']])(
    '%s prints the usage and exits 0 without --url or --workspace',
    async (flag) => {
      const out = capture();
      const err = capture();
      const code = await runSyncCommand(
        [flag],
        out.stream as unknown as NodeJS.WriteStream,
        err.stream as unknown as NodeJS.WriteStream,
      );
      expect(code).toBe(0);
      expect(out.text()).toBe(syncUsage);
      expect(err.text()).toBe('');
    },
  );
});
