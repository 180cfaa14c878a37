import type { DoctorReport } from './run-doctor.js';

const marks = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;

/** The human (and AI) readable report: one line per check, a fix under each warn/fail line. */
export function renderDoctor(report: DoctorReport): string {
  const lines = [`mirrord-mcp-server ${report.serverVersion}`];
  for (const line of report.checks) {
    lines.push(`[${marks[line.level]}] ${line.check}: ${line.detail}`);
    if (line.fix && line.level !== 'ok') lines.push(`       fix: ${line.fix}`);
  }
  const failed = report.checks.filter((line) => line.level === 'fail').length;
  const warned = report.checks.filter((line) => line.level === 'warn').length;
  lines.push(
    failed === 0
      ? `All required checks passed${warned > 0 ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}.`
      : `${failed} check${failed === 1 ? '' : 's'} failed${warned > 0 ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}.`,
  );
  return lines.join('\n');
}
