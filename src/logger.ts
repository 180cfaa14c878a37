import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * Logs go to stderr: stdout belongs to the stdio transport. Known secret-bearing fields are
 * redacted wherever they appear.
 */
export function createLogger(
  level: LevelWithSilent,
  destination: NodeJS.WritableStream = process.stderr,
): Logger {
  return pino(
    {
      level,
      base: { service: 'mirrord-mcp-server' },
      redact: {
        paths: [
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'headers.authorization',
          'env',
          '*.env',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
