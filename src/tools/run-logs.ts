import type { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { toAppError } from '../errors.js';
import { callerOf } from './caller.js';
import { errorResult } from './run-result.js';
import type { RunToolDeps } from './run.js';

const maxReadBytes = 1024 * 1024;

const inputSchema = z.object({
  run_id: z.string().min(1).describe('The run_id returned by run or run_start'),
  stream: z.enum(['stdout', 'stderr']).default('stdout').describe('Which output stream'),
  offset: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Read from this byte offset (next_offset of the previous call, to follow the output)'),
  tail_bytes: z
    .number()
    .int()
    .min(1)
    .max(maxReadBytes)
    .optional()
    .describe('Instead of an offset: the last N bytes'),
  max_bytes: z
    .number()
    .int()
    .min(1)
    .max(maxReadBytes)
    .default(64 * 1024)
    .describe('At most this many bytes'),
});

const outputSchema = z.object({
  run_id: z.string(),
  stream: z.enum(['stdout', 'stderr']),
  text: z.string(),
  offset: z.number().int(),
  next_offset: z.number().int(),
  size: z.number().int().describe('Bytes the stream has produced so far'),
  dropped: z.number().int().describe('Bytes before `offset` the server no longer keeps (run.maxLogBytes)'),
  status: z.enum(['queued', 'running', 'finished']),
  eof: z.boolean().describe('True when the run has ended and everything up to `size` has been read'),
});

/** `run_logs`: a run's output from an offset or the tail, per stream, with a size limit. */
export function registerRunLogsTool(server: McpServer, deps: RunToolDeps): void {
  server.registerTool(
    'run_logs',
    {
      title: 'Output of a run',
      description:
        "Read a run's output (stdout or stderr) while it runs or after: from `offset` (pass the previous call's " +
        'next_offset to follow it) or the last `tail_bytes`, at most `max_bytes` per call.',
      inputSchema,
      outputSchema,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    (args, ctx) => {
      try {
        const record = deps.store.get(args.run_id, callerOf(ctx));
        const log = record.logs[args.stream];
        const slice =
          args.tail_bytes !== undefined
            ? log.tail(Math.min(args.tail_bytes, args.max_bytes))
            : log.read(args.offset, args.max_bytes);
        const out = {
          run_id: record.id,
          stream: args.stream,
          text: slice.text,
          offset: slice.offset,
          next_offset: slice.nextOffset,
          size: slice.size,
          dropped: slice.dropped,
          status: record.status,
          eof: record.status === 'finished' && slice.nextOffset >= slice.size,
        };
        const header =
          `${args.stream} of run ${record.id} (${record.status}), bytes ${out.offset}-${out.next_offset} of ${out.size}` +
          `${out.dropped > 0 ? `, ${out.dropped} earlier bytes no longer kept` : ''}${out.eof ? ', end of output' : ''}:`;
        return { content: [{ type: 'text', text: `${header}\n${out.text}` }], structuredContent: out };
      } catch (error) {
        return errorResult(toAppError(error));
      }
    },
  );
}
