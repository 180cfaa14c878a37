import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { AppError } from '../../../src/errors.js';
import { buildMirrordConfig } from '../../../src/mirrord/config-file.js';
import { createNamespacePolicy } from '../../../src/policy/namespaces.js';
import { buildRequest, runInputSchema } from '../../../src/tools/run-request.js';

/**
 * Property-based fuzzing of what callers control: run arguments and mirrord configs. Whatever
 * comes in, the result is a run request or a clear AppError (never another exception), and a
 * request that passes never carries a server-only key or a template delimiter into the config file.
 */
const config = parseConfig({
  namespaces: { allowed: ['default', 'staging'] },
  policy: { steal: 'with-filter' },
});
const policy = createNamespacePolicy(config);
const serverOnlyTop = [
  'agent',
  'kubeconfig',
  'kube_context',
  'accept_invalid_certificates',
  'internal_proxy',
  'external_proxy',
  'experimental',
  'profile',
  'key',
  'ci',
  'multi_cluster',
  'container',
  'use_proxy',
  'sip_binaries',
];
const keys = fc.constantFrom(
  ...serverOnlyTop,
  'feature',
  'network',
  'incoming',
  'outgoing',
  'mode',
  'steal',
  'mirror',
  'http_filter',
  'header_filter',
  'fs',
  'env',
  'env_file',
  'mapping',
  'include',
  'exclude',
  'override',
  'target',
  'namespace',
  'path',
  'operator',
  'telemetry',
  '__proto__',
  'constructor',
  'skip_processes',
  '{{ get_env(name="HOME") }}',
);
const strings = fc.oneof(
  fc.string(),
  fc.constantFrom(
    'steal',
    'mirror',
    'off',
    'write',
    'read',
    'local',
    '{{',
    '{%',
    '{#',
    '*',
    '../..',
    '\0',
    'default',
    'kube-system',
  ),
);
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    strings,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(keys, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const mirrordConfig = fc.oneof(
  fc.constantFrom(
    '{"feature":{"env":{"override":{"__proto__":{"x":1}}}}}',
    '{"feature":{"network":{"incoming":{"mode":"steal","http_filter":{"__proto__":1}}}}}',
  ),
  fc.dictionary(keys, json, { maxKeys: 4 }),
  fc.string(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
);

const args = fc.record(
  {
    cmd_str: fc.oneof(fc.string(), fc.constant('npm test')),
    deployment: fc.oneof(fc.string(), fc.constantFrom('api', 'api/../x', 'a'.repeat(300))),
    target: fc.oneof(
      fc.string(),
      fc.constantFrom('targetless', 'pod/x/container/y', 'deployment/api', 'statefulset/db', 'job/x'),
    ),
    namespace: fc.oneof(
      fc.string(),
      fc.constantFrom('default', 'staging', 'kube-system', '../default', 'Default'),
    ),
    mirrord_config: mirrordConfig,
    env: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('PATH', 'LD_PRELOAD', 'A{{')), fc.string(), {
      maxKeys: 3,
    }),
    timeout_s: fc.oneof(fc.integer(), fc.double()),
    cwd: fc.string(),
  },
  { requiredKeys: [] },
);

function flatten(value: unknown, path: string[] = [], out: string[] = []): string[] {
  if (typeof value === 'string') out.push(`${path.join('.')}=${value}`);
  else if (Array.isArray(value)) value.forEach((item, i) => flatten(item, [...path, String(i)], out));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      out.push(key);
      flatten(child, [...path, key], out);
    }
  }
  return out;
}

describe('fuzzing caller input', () => {
  it('run arguments give a request or an AppError, and a passing config holds only caller keys', () => {
    fc.assert(
      fc.property(args, (raw) => {
        const parsed = runInputSchema.safeParse(raw);
        if (!parsed.success) return; // the SDK answers these with a validation error
        let request;
        try {
          request = buildRequest(parsed.data, config, '/tmp', {
            workspacesOn: false,
            resolveNamespace: (namespace) => policy.resolve(namespace),
          });
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
          expect((error as AppError).message.length).toBeGreaterThan(0);
          return;
        }
        expect(['default', 'staging']).toContain(request.namespace);
        const written = buildMirrordConfig(request.callerConfig, {
          target: request.target,
          namespace: request.namespace,
          envOverride: request.env,
        });
        for (const key of serverOnlyTop) expect(Object.hasOwn(written, key), key).toBe(false);
        expect(written.operator).toBe(false);
        expect(written.telemetry).toBe(false);
        expect((written.target as { namespace: string }).namespace).toBe(request.namespace);
        for (const item of flatten(written)) expect(item).not.toMatch(/\{\{|\{%|\{#/);
        expect(JSON.stringify(written)).not.toMatch(/"(env_file|mapping|__proto__)"/);
        const incoming = JSON.stringify(
          (written.feature as { network?: unknown } | undefined)?.network ?? {},
        );
        // steal needs an http_filter under the "with-filter" policy.
        if (/"steal"/.test(incoming)) expect(incoming).toMatch(/filter/);
      }),
      { numRuns: 3000 },
    );
  });

  it('a config given as a JSON string is held to the same rules as an object', () => {
    fc.assert(
      fc.property(fc.dictionary(keys, json, { maxKeys: 4 }), (object) => {
        const outcome = (mirrord_config: unknown) => {
          try {
            const request = buildRequest(
              runInputSchema.parse({ cmd_str: 'true', deployment: 'api', mirrord_config }),
              config,
              '/tmp',
              { workspacesOn: false, resolveNamespace: (namespace) => policy.resolve(namespace) },
            );
            return JSON.stringify(request.callerConfig);
          } catch (error) {
            expect(error).toBeInstanceOf(AppError);
            return (error as AppError).code;
          }
        };
        const fromString = outcome(JSON.stringify(object));
        // An object argument has been through zod's record parser, which drops a "__proto__" key
        // (it cannot be an own property of the object it builds); the JSON string keeps it, and
        // it is refused. Either way the key never reaches the config file.
        if (JSON.stringify(object).includes('"__proto__"')) {
          expect(['INVALID_MIRRORD_CONFIG', 'FORBIDDEN_CONFIG_KEY', 'TEMPLATE_DELIMITER']).toContain(
            fromString,
          );
        } else expect(fromString).toBe(outcome(JSON.parse(JSON.stringify(object))));
      }),
      { numRuns: 1000 },
    );
  });
});
