import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { AppError } from './errors.js';
import { matchesAnyGlob } from './glob.js';

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const namespaceName = z
  .string()
  .max(63)
  .regex(dnsLabel, 'must be a DNS-1123 label (lowercase letters, digits and "-")');

/** An integer; from the environment or flags it may come as a string of decimal digits, nothing else. */
const int = (): z.ZodNumber => z.number({ error: 'expected a whole number' }).int();
const decimal = /^\s*-?\d+\s*$/;
/** Turns decimal strings (env, flags) into numbers before validation; anything else stays as it is. */
function numbersFromStrings(value: unknown, schema: z.ZodType): unknown {
  const shape = unwrapObject(schema);
  if (shape && isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [
        key,
        shape[key] ? numbersFromStrings(child, shape[key]) : child,
      ]),
    );
  }
  if (typeof value === 'string' && decimal.test(value) && acceptsNumber(schema)) return Number(value);
  return value;
}

function acceptsNumber(schema: z.ZodType): boolean {
  let current: z.ZodType | undefined = schema;
  while (current) {
    if (current instanceof z.ZodNumber) return true;
    const def: { innerType?: z.ZodType; in?: z.ZodType } | undefined = (
      current as { def?: { innerType?: z.ZodType; in?: z.ZodType } }
    ).def;
    current = def?.innerType ?? def?.in;
  }
  return false;
}

const basePath = z
  .string()
  .regex(/^(\/[A-Za-z0-9._~-]+)*\/?$/, 'must be empty or a URL path such as "/mirrord"')
  .transform((path) => path.replace(/\/+$/, ''));

const booleanFlag = (): z.ZodBoolean =>
  z.boolean({ error: (issue) => `expected true or false, got ${JSON.stringify(issue.input)}` });

const absolutePath = z.string().refine((path) => path.startsWith('/'), 'must be an absolute path');

const httpsUrl = z
  .url({ error: 'must be a URL' })
  .refine(
    (url) => /^https:\/\//.test(url) || /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|$)/.test(url),
    {
      error: 'must be an https:// URL (http:// only for localhost)',
    },
  );

/** A namespace name or a glob of one (`*`, `?`): namespaces.allowed, a token's or claim's namespaces. */
export const namespaceGlob = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?$/, 'must be a namespace name or a glob of one');

/** One static bearer token: the secret (or its sha256) and who presents it. */
export const staticTokenSchema = z
  .object({
    /** Who the token's bearer is: audit logs, workspace owner, SubjectAccessReview user. */
    identity: z.string().min(1).max(253),
    /** The token itself (at least 16 characters); or give `sha256` so the secret is never stored. */
    token: z.string().min(16, 'must be at least 16 characters').max(4096).optional(),
    /** Lowercase hex sha256 of the token. */
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')
      .optional(),
    /** Groups for SubjectAccessReview. */
    groups: z.array(z.string().min(1)).default([]),
    /** Narrows namespaces.allowed for this identity (names or globs). */
    namespaces: z.array(namespaceGlob).min(1).optional(),
  })
  .strict()
  .refine((entry) => (entry.token === undefined) !== (entry.sha256 === undefined), {
    error: 'give exactly one of "token" and "sha256"',
  });

/** The whole server configuration: one schema, one source of defaults. */
export const configSchema = z
  .object({
    /** Address to listen on; anything but loopback exposes the server to the network. */
    host: z.string().min(1).default('127.0.0.1'),
    port: int().min(0).max(65535).default(3000),
    /** Public path prefix (an Ingress path), so the SSE `endpoint` event names the right URL. */
    basePath: basePath.default(''),
    /** Host header names accepted (DNS-rebinding protection); empty = localhost names on a loopback bind. */
    allowedHosts: z.array(z.string().min(1)).default([]),
    /** Origin header hostnames accepted when a client sends one; a missing Origin is always accepted. */
    allowedOrigins: z.array(z.string().min(1)).default([]),
    /** Serve MCP on stdin/stdout instead of HTTP. */
    stdio: booleanFlag().default(false),
    /** The mirrord executable: a name looked up on PATH, or a path. */
    mirrordBin: z.string().min(1).default('mirrord'),
    /** Namespace used when a call names none. */
    defaultNamespace: namespaceName.default('default'),
    /** Namespace for mirrord's agent pods; unset = mirrord's default (the target's namespace). */
    agentNamespace: namespaceName.optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Largest accepted HTTP request body, in bytes. */
    maxRequestBytes: int()
      .min(1024)
      .default(4 * 1024 * 1024),
    /** On SIGTERM, how long running runs get to finish by themselves before they are stopped. */
    drainTimeoutS: int().min(0).default(30),
    /** After the drain, how long shutdown waits for runs to be killed and transports closed. */
    shutdownTimeoutMs: int().min(100).default(10_000),
    run: z
      .object({
        /** Timeout of a run when the call gives none (default: 600, or maxTimeoutS when lower). */
        defaultTimeoutS: int().min(1).optional(),
        /** Largest `timeout_s` a caller may ask for; larger values are capped. */
        maxTimeoutS: int().min(1).default(3600),
        /** Timeout of `setup_cmd`. */
        setupTimeoutS: int().min(1).default(600),
        /** Time between SIGTERM and SIGKILL when a process group is stopped. */
        killGraceMs: int().min(0).default(5000),
        /** Bytes kept per output stream (head and tail halves); the rest is counted, not kept. */
        maxOutputBytes: int()
          .min(1024)
          .default(1024 * 1024),
        /** Interval of progress heartbeats while a run goes on. */
        heartbeatMs: int().min(100).max(10_000).default(5000),
        /** A `run` still going after this long answers with its run id and goes on in the background. */
        waitS: int().min(1).max(3600).default(50),
        /** How long a finished run's result and logs stay readable. */
        retainS: int().min(1).default(3600),
        /** Bytes of output kept on disk per stream of a run (run_logs, resources). */
        maxLogBytes: int()
          .min(1024)
          .default(16 * 1024 * 1024),
        /** Runs at once for the whole server; more wait in the queue. */
        maxConcurrent: int().min(1).default(64),
        /** Runs at once per caller identity; more wait in the queue. */
        maxPerIdentity: int().min(1).default(8),
        /** Longest a run waits in the queue (global, per-identity or target lock) before it fails. */
        queueTimeoutS: int().min(1).max(3600).default(300),
        /** Runs waiting at once; more are refused. */
        maxQueued: int().min(0).default(256),
      })
      .strict()
      .transform((run) => ({
        ...run,
        defaultTimeoutS: run.defaultTimeoutS ?? Math.min(600, run.maxTimeoutS),
      }))
      .prefault({}),
    /** What callers may ask of mirrord; `namespaces` overrides it per namespace (names or globs, first match). */
    policy: z
      .object({
        steal: z.enum(['never', 'with-filter', 'always']).default('never'),
        fsWrite: booleanFlag().default(false),
        envImport: z.enum(['all', 'non-secret', 'none']).default('non-secret'),
        hidePodSecrets: booleanFlag().default(true),
        namespaces: z
          .record(
            z.string().min(1),
            z
              .object({
                steal: z.enum(['never', 'with-filter', 'always']).optional(),
                fsWrite: z.boolean().optional(),
                envImport: z.enum(['all', 'non-secret', 'none']).optional(),
                hidePodSecrets: z.boolean().optional(),
              })
              .strict(),
          )
          .default({}),
      })
      .strict()
      .prefault({}),
    kube: z
      .object({
        /** kubeconfig context to use locally (ignored in a pod, where the service account is used). */
        context: z.string().min(1).optional(),
        /** Bound on every Kubernetes API request (watches excepted); a slow API never blocks a call longer. */
        requestTimeoutMs: int().min(100).max(120_000).default(5000),
        /** Check a run's target (exists, has a ready pod, the container exists) before starting mirrord. */
        checkTargets: booleanFlag().default(true),
        /** Serve discovery from watch-based caches; off = every read goes to the API server. */
        watch: booleanFlag().default(true),
      })
      .strict()
      .prefault({}),
    namespaces: z
      .object({
        /** Namespaces callers may use: names or globs (`*`, `?`), e.g. ["staging", "team-*"]. */
        allowed: z.array(namespaceGlob).min(1).default(['*']),
      })
      .strict()
      .prefault({}),
    sessions: z
      .object({
        /** SSE keep-alive comment interval; proxies cut streams that stay silent. */
        keepAliveMs: int().min(100).max(15_000).default(15_000),
        /** A session with no request and no open stream for this long is closed. */
        idleTimeoutS: int().min(1).default(1800),
        /** Sessions held at once (SSE plus Streamable HTTP); more are refused with 503. */
        maxSessions: int().min(1).default(2000),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        /** Static bearer tokens: a YAML/JSON file `tokens: [{identity, token | sha256, groups?, namespaces?}]`, re-read when it changes. */
        tokensFile: absolutePath.optional(),
        /** Static bearer tokens inline (env MIRRORD_MCP_AUTH_TOKENS as JSON, e.g. from a Secret). */
        tokens: z.array(staticTokenSchema).default([]),
        /** OIDC/JWT bearer tokens, verified against the issuer's JWKS. */
        oidc: z
          .object({
            /** Issuer URL; must equal the token's `iss`. Its discovery document names the JWKS. */
            issuer: httpsUrl,
            /** Accepted audiences; the token's `aud` must hold one. */
            audience: z.array(z.string().min(1)).min(1),
            /** JWKS URL; default: `jwks_uri` from the issuer's /.well-known/openid-configuration. */
            jwksUri: httpsUrl.optional(),
            /** Claim naming the caller. */
            identityClaim: z.string().min(1).default('sub'),
            /** Prefix put before the claim (like kube-apiserver's --oidc-username-prefix), e.g. "oidc:". */
            identityPrefix: z.string().default(''),
            /** Claim holding the caller's groups (for SubjectAccessReview). */
            groupsClaim: z.string().min(1).default('groups'),
            /** Claim holding namespaces (names or globs) that narrow namespaces.allowed for the caller. */
            namespacesClaim: z.string().min(1).optional(),
            /** Allowed clock skew for exp/nbf/iat. */
            clockToleranceS: int().min(0).max(300).default(30),
          })
          .strict()
          .optional(),
        /** Accept tokens the cluster accepts (Kubernetes TokenReview), e.g. service-account tokens. */
        tokenReview: z
          .object({
            enabled: booleanFlag().default(false),
            /** Audiences the token must be valid for; empty = the API server's default. */
            audiences: z.array(z.string().min(1)).default([]),
            /** How long an accepted token's review is cached. */
            cacheS: int().min(0).max(3600).default(60),
          })
          .strict()
          .prefault({}),
        /** Ask the cluster (SubjectAccessReview) whether the caller may get pods and create pods/portforward in the namespace. */
        subjectAccessReview: booleanFlag().default(false),
        /** Public URL of the MCP endpoint (RFC 9728 `resource`); default: derived from the request's Host. */
        resourceUrl: httpsUrl.optional(),
        /** Serve /metrics without authentication (for a Prometheus inside the cluster). */
        publicMetrics: booleanFlag().default(false),
      })
      .strict()
      .prefault({}),
    rateLimit: z
      .object({
        /** Requests per minute per identity (and per client address for failed authentications); 0 = off. */
        requestsPerMinute: int().min(0).default(600),
        /** Requests an identity may make at once above the steady rate. */
        burst: int().min(1).default(120),
      })
      .strict()
      .prefault({}),
    workspaces: z
      .object({
        /** Absolute directory holding the workspaces (a volume in the chart); unset = workspaces off. */
        dataDir: absolutePath.optional(),
        /** Files (and symlinks) per workspace. */
        maxFiles: int().min(1).default(50_000),
        /** Bytes of file content per workspace. */
        maxBytes: int()
          .min(1)
          .default(2 * 1024 ** 3),
        /** Bytes of file content over all workspaces. */
        maxTotalBytes: int()
          .min(1)
          .default(20 * 1024 ** 3),
        /** A workspace nobody synced, wrote, read or ran in for this long is deleted. */
        idleTtlS: int()
          .min(1)
          .default(7 * 24 * 3600),
        /** A sync with no request for this long is abandoned, so another may take its place. */
        syncIdleTimeoutS: int().min(1).default(60),
        /** Largest manifest (JSON) a sync may send. */
        maxManifestBytes: int()
          .min(1024)
          .default(32 * 1024 * 1024),
        /** Largest upload batch in bytes; a batch of one blob may be larger (its size is declared up front). */
        maxBatchBytes: int()
          .min(1024)
          .default(32 * 1024 * 1024),
        /** Blobs per upload batch. */
        maxBatchFiles: int().min(1).default(2000),
        /** Largest file content workspace_read_file returns. */
        maxReadBytes: int()
          .min(1)
          .default(1024 * 1024),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (!matchesAnyGlob(config.defaultNamespace, config.namespaces.allowed)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultNamespace'],
        message: `"${config.defaultNamespace}" is not in namespaces.allowed (${config.namespaces.allowed.join(', ')})`,
      });
    }
    if (config.run.defaultTimeoutS > config.run.maxTimeoutS) {
      ctx.addIssue({
        code: 'custom',
        path: ['run', 'defaultTimeoutS'],
        message: `must not exceed run.maxTimeoutS (${config.run.maxTimeoutS})`,
      });
    }
    if (!config.stdio && !isLoopbackHost(config.host) && !authConfigured(config.auth)) {
      ctx.addIssue({
        code: 'custom',
        path: ['host'],
        message: `"${config.host}" is not a loopback address, and no authentication is configured: anyone who reaches the port could run commands in the cluster. Configure auth.tokensFile, auth.tokens, auth.oidc or auth.tokenReview, or listen on 127.0.0.1`,
      });
    }
    if (config.auth.subjectAccessReview && !authConfigured(config.auth)) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'subjectAccessReview'],
        message:
          'needs an authentication method (auth.tokensFile, auth.tokens, auth.oidc or auth.tokenReview): the review asks about the caller',
      });
    }
    if (config.workspaces.maxBytes > config.workspaces.maxTotalBytes) {
      ctx.addIssue({
        code: 'custom',
        path: ['workspaces', 'maxBytes'],
        message: `must not exceed workspaces.maxTotalBytes (${config.workspaces.maxTotalBytes})`,
      });
    }
  });

export type Config = Readonly<z.infer<typeof configSchema>>;
export type AuthConfig = Config['auth'];
export type StaticToken = z.infer<typeof staticTokenSchema>;

/** True when at least one authentication method is configured. */
export function authConfigured(auth: {
  tokensFile?: string | undefined;
  tokens: readonly unknown[];
  oidc?: unknown;
  tokenReview: { enabled: boolean };
}): boolean {
  return (
    auth.tokensFile !== undefined ||
    auth.tokens.length > 0 ||
    auth.oidc !== undefined ||
    auth.tokenReview.enabled
  );
}

/** Where each environment variable lands in the config (MIRRORD_MCP_ + the path in SNAKE_CASE). */
export const envPrefix = 'MIRRORD_MCP_';

function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  const shape = unwrapObject(schema);
  if (!shape) return [prefix];
  return Object.entries(shape).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
}

function unwrapObject(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  let current: z.ZodType = schema;
  for (;;) {
    if (current instanceof z.ZodObject) return current.shape;
    const inner = (current as { def?: { innerType?: z.ZodType; in?: z.ZodType } }).def;
    const next = inner?.innerType ?? inner?.in;
    if (!next) return undefined;
    current = next;
  }
}

const snake = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** Every config leaf with its environment variable name, for the loader and the docs. */
export const configKeys: readonly { path: readonly string[]; env: string }[] = leafPaths(configSchema).map(
  (path) => ({ path, env: envPrefix + path.map(snake).join('_') }),
);

const listKeys = new Set(['allowedHosts', 'allowedOrigins', 'allowed', 'audience', 'audiences']);
const booleanKeys = new Set([
  'stdio',
  'checkTargets',
  'watch',
  'fsWrite',
  'hidePodSecrets',
  'enabled',
  'subjectAccessReview',
  'publicMetrics',
]);
/** Keys whose environment value is JSON (structured values). */
const jsonKeys = new Set(['namespaces', 'tokens']);

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] ?? ''] = value;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "true"/"false" (and 1/0, yes/no, on/off) become booleans; anything else is left for the schema to refuse. */
function parseBoolean(raw: string): boolean | string {
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off|)$/i.test(raw)) return false;
  return raw;
}

/** A structured value in an environment variable is JSON; left as text when it is not, for the schema to refuse. */
function parseJsonValue(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** Reads MIRRORD_MCP_* variables into a partial config (strings; zod coerces numbers). */
export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  // MIRRORD_MCP_TOKEN is the sync client's token, not server config: a shell may hold both.
  const known = new Set([...configKeys.map((key) => key.env), `${envPrefix}CONFIG`, `${envPrefix}TOKEN`]);
  const unknown = Object.keys(env).filter((name) => name.startsWith(envPrefix) && !known.has(name));
  if (unknown.length > 0) {
    throw new AppError(
      'CONFIG_INVALID',
      `invalid configuration:\n  unknown environment variable(s) ${unknown.join(', ')} (see --help for the known ones)`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const { path, env: name } of configKeys) {
    const raw = env[name];
    if (raw === undefined) continue;
    const leaf = path[path.length - 1] ?? '';
    let value: unknown = raw;
    if (listKeys.has(leaf)) {
      value = raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0);
    } else if (booleanKeys.has(leaf)) {
      value = parseBoolean(raw);
    } else if (jsonKeys.has(leaf)) {
      value = parseJsonValue(raw);
    }
    setPath(out, path, value);
  }
  return out;
}

/** Reads a YAML or JSON config file (JSON is YAML). */
export function configFromFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AppError('CONFIG_INVALID', `cannot read config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new AppError(
      'CONFIG_INVALID',
      `config file ${path} is not valid YAML or JSON: ${(error as Error).message}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlainObject(parsed))
    throw new AppError('CONFIG_INVALID', `config file ${path} must hold a mapping of keys`);
  return parsed;
}

export interface ConfigSources {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  flags?: Record<string, unknown>;
}

/** Merges defaults < config file < environment < flags, validates once, and freezes the result. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const file = sources.file ?? env[`${envPrefix}CONFIG`];
  const merged = [file ? configFromFile(file) : {}, configFromEnv(env), sources.flags ?? {}].reduce(
    (acc, layer) => deepMerge(acc, layer),
    {},
  );
  return parseConfig(merged);
}

/**
 * One validation issue as text, reached through `path` (list items as "item N"):
 * "item 0: token: must be at least 16 characters", "unknown key(s) \"role\"".
 */
export function describeIssue(issue: z.core.$ZodIssue, path: readonly PropertyKey[] = issue.path): string {
  const detail =
    issue.code === 'unrecognized_keys'
      ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : issue.message;
  const within = path.map((part) => `${typeof part === 'number' ? `item ${part}` : String(part)}: `).join('');
  return `${within}${detail}`;
}

/** Validates a raw config object; a bad value becomes one readable message naming the key. */
export function parseConfig(raw: unknown): Config {
  const result = configSchema.safeParse(numbersFromStrings(raw, configSchema));
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      // Reported under the config leaf it belongs to, with the way into the leaf's value after it:
      // "namespaces.allowed (env ...): item 1: ...", "auth.tokens (env ...): item 0: token: ...".
      const leaf = configKeys.find((k) => k.path.every((part, i) => issue.path[i] === part));
      const keyPath = leaf ? leaf.path : issue.path;
      const inside = leaf ? issue.path.slice(leaf.path.length) : [];
      const key = keyPath.join('.') || '(root)';
      return `  ${key}${leaf ? ` (env ${leaf.env})` : ''}: ${describeIssue(issue, inside)}`;
    });
    throw new AppError('CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`);
  }
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** True when `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  if (name === 'localhost' || name === '::1' || name === '[::1]') return true;
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  return octets !== null && octets.slice(1).every((octet) => Number(octet) <= 255);
}
