import * as z from 'zod';
import { AppError } from '../errors.js';
import { buildTree, type Tree, type TreeEntry, type TreeLimits, type WireManifest } from './manifest.js';

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

/** Parses a manifest from the wire into a Tree, refusing anything unsafe or over the limits. */
export function parseManifest(raw: unknown, limits: TreeLimits): Tree {
  const parsed = wireManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? issue.path.join('.') : '';
    throw new AppError(
      'INVALID_MANIFEST',
      `invalid manifest at ${where || '(root)'}: ${issue?.message ?? ''}`,
    );
  }
  const entries: TreeEntry[] = parsed.data.entries.map((entry) =>
    entry.type === 'symlink'
      ? { type: 'symlink', path: entry.path, target: entry.target }
      : {
          type: 'file',
          path: entry.path,
          size: entry.size,
          executable: (entry.mode & 0o100) !== 0,
          sha256: entry.sha256,
        },
  );
  return buildTree(entries, limits);
}

// The hand-written wire types (which the sync client uses without loading zod) must match the schema.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
/** Compiles only while the schema and `WireManifest` agree. */
export type WireManifestMatchesSchema = Assert<Same<z.infer<typeof wireManifestSchema>, WireManifest>>;
