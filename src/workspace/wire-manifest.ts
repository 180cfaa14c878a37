import * as z from 'zod';
import { AppError } from '../errors.js';
import {
  buildTree,
  inlineBlobBytes,
  inlineBlobs,
  type Tree,
  type TreeEntry,
  type TreeLimits,
  type WireDelta,
  type WireEntry,
  type WireManifest,
} from './manifest.js';
import type { TreeDelta } from './tree-delta.js';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

/** One manifest line as sent on the wire (the sync protocol's shape). */
const wireEntry = z.union([
  z
    .object({
      path: z.string(),
      type: z.literal('file').optional(),
      size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      /** POSIX mode bits; only the owner's executable bit is kept. */
      mode: z.number().int().min(0).max(0o7777),
      sha256,
    })
    .strict(),
  z.object({ path: z.string(), type: z.literal('symlink'), target: z.string() }).strict(),
]);

export const wireManifestSchema = z.object({ entries: z.array(wireEntry) }).strict();

/** A delta against the tree whose digest is `base`; `digest` is what the client expects after it. */
export const wireDeltaSchema = z
  .object({
    base: sha256,
    digest: sha256,
    changes: z.array(wireEntry),
    removed: z.array(z.string()),
    blobs: z
      .array(
        z
          .object({
            sha256,
            data: z
              .string()
              .max(Math.ceil(inlineBlobBytes / 3) * 4)
              .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
          })
          .strict(),
      )
      .max(inlineBlobs)
      .optional(),
    commit: z.boolean().optional(),
  })
  .strict();

function invalid(error: z.ZodError): AppError {
  const issue = error.issues[0];
  const where = issue ? issue.path.join('.') : '';
  return new AppError(
    'INVALID_MANIFEST',
    `invalid manifest at ${where || '(root)'}: ${issue?.message ?? ''}`,
  );
}

function toEntry(entry: WireEntry): TreeEntry {
  return entry.type === 'symlink'
    ? { type: 'symlink', path: entry.path, target: entry.target }
    : {
        type: 'file',
        path: entry.path,
        size: entry.size,
        executable: (entry.mode & 0o100) !== 0,
        sha256: entry.sha256,
      };
}

/** What POST /workspaces/NAME/syncs carries: a whole manifest, or a delta against a base tree. */
export type SyncRequest =
  | { kind: 'full'; tree: Tree }
  | {
      kind: 'delta';
      base: string;
      digest: string;
      delta: TreeDelta;
      /** Contents sent along (`blobs`), decoded, and whether to commit when nothing is missing. */
      inline: InlineBlob[];
      commit: boolean;
    };

export interface InlineBlob {
  sha256: string;
  data: Buffer;
}

/**
 * Parses a sync request. A full manifest is validated whole here; a delta only for its shape (its
 * paths are checked against the base tree by `applyDelta`, under the workspace's lock).
 */
export function parseSyncRequest(raw: unknown, limits: TreeLimits): SyncRequest {
  if (typeof raw === 'object' && raw !== null && 'base' in raw) {
    const parsed = wireDeltaSchema.safeParse(raw);
    if (!parsed.success) throw invalid(parsed.error);
    const { base, digest, changes, removed, blobs, commit } = parsed.data;
    return {
      kind: 'delta',
      base,
      digest,
      delta: { changes: changes.map(toEntry), removed },
      inline: (blobs ?? []).map((blob) => ({ sha256: blob.sha256, data: Buffer.from(blob.data, 'base64') })),
      commit: commit ?? false,
    };
  }
  return { kind: 'full', tree: parseManifest(raw, limits) };
}

/** Parses a manifest from the wire into a Tree, refusing anything unsafe or over the limits. */
export function parseManifest(raw: unknown, limits: TreeLimits): Tree {
  const parsed = wireManifestSchema.safeParse(raw);
  if (!parsed.success) throw invalid(parsed.error);
  return buildTree(parsed.data.entries.map(toEntry), limits);
}

// The hand-written wire types (which the sync client uses without loading zod) must match the schema.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
/** Compiles only while the schema and `WireManifest` agree. */
export type WireManifestMatchesSchema = Assert<Same<z.infer<typeof wireManifestSchema>, WireManifest>>;
/** Compiles only while the delta schema and `WireDelta` agree. */
export type WireDeltaMatchesSchema = Assert<Same<z.infer<typeof wireDeltaSchema>, WireDelta>>;
