import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';

/** Where one workspace keeps its things under the data directory. */
export interface WorkspaceLayout {
  /** The workspace's own directory. */
  root: string;
  /** Content-addressed blobs, read-only, named by sha256 (`.x` for the executable variant). */
  blobs: string;
  /** Materialized trees (`<id>/`) and their manifests (`<id>.json`); runs use them as cwd. */
  trees: string;
  /** Upload temp files, emptied at start-up. */
  tmp: string;
  /** Symlink to the current tree, swapped with rename(2). */
  current: string;
  /** Who owns the workspace and its name, for the start-up scan. */
  info: string;
}

/** Directory name for an owner: owners are arbitrary strings (an email, a subject), names are not. */
export function ownerKey(owner: string): string {
  return `o-${createHash('sha256').update(owner).digest('hex').slice(0, 32)}`;
}

export function workspaceLayout(dataDir: string, owner: string, name: string): WorkspaceLayout {
  const root = join(dataDir, 'workspaces', ownerKey(owner), name);
  return {
    root,
    blobs: join(root, 'blobs'),
    trees: join(root, 'trees'),
    tmp: join(root, 'tmp'),
    current: join(root, 'current'),
    info: join(root, 'workspace.json'),
  };
}

export function blobPath(layout: WorkspaceLayout, sha256: string, executable: boolean): string {
  // Concatenated, not joined: `blobs` is normalized and a hash is a plain name (join's
  // normalization showed in a first sync's profile, twice per file).
  return `${layout.blobs}/${sha256}${executable ? '.x' : ''}`;
}

/** Tree ids sort by creation time, which makes the logs and the directory easy to read. */
export function newTreeId(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
