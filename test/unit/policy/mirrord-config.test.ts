import { describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../../src/errors.js';
import {
  parseCallerConfig,
  parseCallerEnv,
  rejectTemplateDelimiters,
  type JsonObject,
} from '../../../src/policy/mirrord-config.js';
import { catchAppError } from '../../helpers/app-error.js';

function expectCode(fn: () => unknown, code: ErrorCode): AppError {
  const error = catchAppError(fn);
  expect(error.code).toBe(code);
  return error;
}

describe('parseCallerConfig: input forms', () => {
  it('undefined gives an empty config', () => {
    expect(parseCallerConfig(undefined)).toEqual({});
  });

  it.each(['', '   ', '\n\t'])('an empty string (%j) gives an empty config', (raw) => {
    expect(parseCallerConfig(raw)).toEqual({});
  });

  it('parses a JSON string', () => {
    expect(parseCallerConfig('{"feature":{"fs":"read","network":{"incoming":"mirror"}}}')).toEqual({
      feature: { fs: 'read', network: { incoming: 'mirror' } },
    });
  });

  it('accepts an object as it is', () => {
    const input: JsonObject = { feature: { fs: 'local' } };
    expect(parseCallerConfig(input)).toEqual({ feature: { fs: 'local' } });
  });

  it('an empty JSON object is fine', () => {
    expect(parseCallerConfig('{}')).toEqual({});
    expect(parseCallerConfig({})).toEqual({});
  });

  it('invalid JSON is INVALID_MIRRORD_CONFIG with line and column', () => {
    const error = expectCode(() => parseCallerConfig('{"feature": 1,}'), 'INVALID_MIRRORD_CONFIG');
    expect(error.message).toContain('mirrord_config is not valid JSON');
    // The "," at index 13 is followed by "}" at index 14: line 1, column 15.
    expect(error.message).toContain('line 1, column 15');
    expect(error.message).toContain('near ');
  });

  it('invalid JSON on a later line reports that line', () => {
    const text = '{\n  "feature": {\n    "fs": "read",\n  }\n}';
    const error = expectCode(() => parseCallerConfig(text), 'INVALID_MIRRORD_CONFIG');
    expect(error.message).toContain('line 4, column 3');
  });

  it('a truncated JSON object is INVALID_MIRRORD_CONFIG with a position', () => {
    const error = expectCode(() => parseCallerConfig('{'), 'INVALID_MIRRORD_CONFIG');
    expect(error.message).toContain('line 1, column 2');
  });

  it('text that is not JSON at all is INVALID_MIRRORD_CONFIG', () => {
    const error = expectCode(() => parseCallerConfig('fs=read'), 'INVALID_MIRRORD_CONFIG');
    expect(error.message).toContain('mirrord_config is not valid JSON');
  });

  it.each(['[]', '[{"feature":{}}]', '42', '"text"', 'null', 'true'])(
    'non-object JSON %s is INVALID_MIRRORD_CONFIG',
    (raw) => {
      const error = expectCode(() => parseCallerConfig(raw), 'INVALID_MIRRORD_CONFIG');
      expect(error.message).toContain('must be a JSON object');
    },
  );

  it('a non-object value passed directly is INVALID_MIRRORD_CONFIG', () => {
    for (const value of [[], null, 5]) {
      expectCode(() => parseCallerConfig(value as unknown as JsonObject), 'INVALID_MIRRORD_CONFIG');
    }
  });
});

describe('parseCallerConfig: template delimiters', () => {
  it.each(['{{', '{%', '{#'])('%s in a top-level string value is TEMPLATE_DELIMITER', (delimiter) => {
    const error = expectCode(
      () => parseCallerConfig({ skip_processes: `x${delimiter} get_env(name="HOME") }}` }),
      'TEMPLATE_DELIMITER',
    );
    expect(error.details).toEqual({ key: 'mirrord_config.skip_processes' });
  });

  it('in a nested value names the path', () => {
    const error = expectCode(
      () =>
        parseCallerConfig('{"feature":{"env":{"override":{"TOKEN":"{{ get_env(name=\\"SECRET\\") }}"}}}}'),
      'TEMPLATE_DELIMITER',
    );
    expect(error.details).toEqual({ key: 'mirrord_config.feature.env.override.TOKEN' });
    expect(error.message).toContain('mirrord_config.feature.env.override.TOKEN');
  });

  it('in an array item names the index', () => {
    const error = expectCode(
      () => parseCallerConfig({ feature: { env: { include: ['PATH', '{% raw %}'] } } }),
      'TEMPLATE_DELIMITER',
    );
    expect(error.details).toEqual({ key: 'mirrord_config.feature.env.include[1]' });
  });

  it('in an object inside an array', () => {
    const error = expectCode(
      () =>
        parseCallerConfig({
          feature: { network: { incoming: { http_filter: { all_of: [{ header: '{# x #}' }] } } } },
        }),
      'TEMPLATE_DELIMITER',
    );
    expect(error.details).toEqual({
      key: 'mirrord_config.feature.network.incoming.http_filter.all_of[0].header',
    });
  });

  it('in a key is TEMPLATE_DELIMITER', () => {
    const error = expectCode(
      () => parseCallerConfig({ feature: { env: { override: { '{{x}}': 'v' } } } }),
      'TEMPLATE_DELIMITER',
    );
    expect(error.message).toContain('a key in mirrord_config.feature.env.override');
  });

  it('in a top-level key is TEMPLATE_DELIMITER', () => {
    expectCode(() => parseCallerConfig('{"{%":1}'), 'TEMPLATE_DELIMITER');
  });

  it('lone braces and other text pass', () => {
    const config = { feature: { env: { override: { A: '{ {', B: '{}', C: '%}', D: '#}', E: '}}' } } } };
    expect(parseCallerConfig(config)).toEqual(config);
  });

  it('numbers, booleans and null are not inspected as text', () => {
    const config = {
      feature: { network: { incoming: { ports: [80, 443] } }, hostname: true },
      startup_retry: null,
    };
    expect(parseCallerConfig(config)).toEqual(config);
  });

  it('rejectTemplateDelimiters names the given place', () => {
    const error = expectCode(() => {
      rejectTemplateDelimiters('a{{b', 'env.X');
    }, 'TEMPLATE_DELIMITER');
    expect(error.details).toEqual({ key: 'env.X' });
    expect(() => {
      rejectTemplateDelimiters(['ok', { a: 'fine' }, 1, null], 'root');
    }).not.toThrow();
  });
});

describe('parseCallerConfig: server-only keys', () => {
  const forbidden: [string, JsonObject][] = [
    ['agent', { agent: { image: 'evil/agent' } }],
    ['agent', { agent: { privileged: true } }],
    ['agent', { agent: { namespace: 'kube-system' } }],
    ['kubeconfig', { kubeconfig: '/root/.kube/other' }],
    ['kube_context', { kube_context: 'prod' }],
    ['accept_invalid_certificates', { accept_invalid_certificates: true }],
    ['internal_proxy', { internal_proxy: { log_destination: '/etc/cron.d/x' } }],
    ['external_proxy', { external_proxy: {} }],
    ['experimental', { experimental: { readlink: true } }],
    ['profile', { profile: 'default' }],
    ['operator', { operator: true }],
    ['telemetry', { telemetry: true }],
    ['target', { target: 'pod/other' }],
    ['target', { target: { path: 'pod/other', namespace: 'kube-system' } }],
    ['key', { key: 'shared' }],
    ['ci', { ci: {} }],
    ['multi_cluster', { multi_cluster: {} }],
    ['container', { container: {} }],
    ['use_proxy', { use_proxy: false }],
    ['sip_binaries', { sip_binaries: [] }],
    ['feature.env.env_file', { feature: { env: { env_file: '/var/run/secrets/x' } } }],
    ['feature.fs.mapping', { feature: { fs: { mode: 'read', mapping: { '/etc': '/tmp' } } } }],
  ];

  it.each(forbidden)('%s is FORBIDDEN_CONFIG_KEY with details.key', (key, config) => {
    const error = expectCode(() => parseCallerConfig(config), 'FORBIDDEN_CONFIG_KEY');
    expect(error.details.key).toBe(key);
    expect(error.message).toContain(`"${key}"`);
  });

  it('is refused from a JSON string too', () => {
    const error = expectCode(() => parseCallerConfig('{"agent":{"image":"x"}}'), 'FORBIDDEN_CONFIG_KEY');
    expect(error.details.key).toBe('agent');
  });

  it('is refused even when its value is null, false or empty', () => {
    for (const value of [null, false, '', {}, 0]) {
      const error = expectCode(() => parseCallerConfig({ operator: value }), 'FORBIDDEN_CONFIG_KEY');
      expect(error.details.key).toBe('operator');
    }
    const nested = expectCode(
      () => parseCallerConfig({ feature: { fs: { mapping: null } } }),
      'FORBIDDEN_CONFIG_KEY',
    );
    expect(nested.details.key).toBe('feature.fs.mapping');
  });

  it('never puts the value in the details', () => {
    const error = expectCode(() => parseCallerConfig({ kubeconfig: 'secret-path' }), 'FORBIDDEN_CONFIG_KEY');
    expect(JSON.stringify(error.toJSON())).not.toContain('secret-path');
  });
});

describe('parseCallerConfig: allowed keys', () => {
  it.each<[string, JsonObject]>([
    ['feature.network.incoming mode', { feature: { network: { incoming: 'steal' } } }],
    [
      'feature.network.incoming object',
      {
        feature: {
          network: {
            incoming: { mode: 'steal', ports: [8080], http_filter: { header_filter: 'x-user: me' } },
            outgoing: { tcp: true, udp: false },
            dns: false,
          },
        },
      },
    ],
    ['feature.fs string', { feature: { fs: 'read' } }],
    [
      'feature.fs object',
      { feature: { fs: { mode: 'localwithoverrides', read_only: ['/app'], local: ['/tmp'] } } },
    ],
    ['feature.env.include', { feature: { env: { include: 'DB_*;API_URL' } } }],
    ['feature.env.override', { feature: { env: { override: { LOG_LEVEL: 'debug' } } } }],
    ['feature.env.exclude', { feature: { env: { exclude: ['SECRET'] } } }],
    ['feature.env false', { feature: { env: false } }],
    ['feature.hostname', { feature: { hostname: true } }],
    ['skip_processes', { skip_processes: ['node', 'npm'] }],
    ['startup_retry', { startup_retry: { max_attempts: 3 } }],
  ])('%s passes unchanged', (_name, config) => {
    expect(parseCallerConfig(config)).toEqual(config);
    expect(parseCallerConfig(JSON.stringify(config))).toEqual(config);
  });
});

describe('parseCallerEnv', () => {
  it('undefined gives an empty env', () => {
    expect(parseCallerEnv(undefined)).toEqual({});
  });

  it('passes valid names and values through', () => {
    const env = { DEBUG: '1', _private: 'x', A1_b2: 'with spaces and = signs', EMPTY: '', JSON: '{"a":1}' };
    expect(parseCallerEnv(env)).toEqual(env);
  });

  it('returns a copy', () => {
    const env = { A: '1' };
    const parsed = parseCallerEnv(env);
    parsed.B = '2';
    expect(env).toEqual({ A: '1' });
  });

  it.each(['1ABC', 'A-B', 'A B', '', 'A=B', 'É', 'A.B'])('refuses the name %j', (name) => {
    const error = expectCode(() => parseCallerEnv({ [name]: 'x' }), 'INVALID_ARGUMENT');
    expect(error.message).toContain(`"${name}"`);
    expect(error.message).toContain('not a valid variable name');
  });

  it.each([
    'MIRRORD_CI_API_KEY',
    'MIRRORD_RESOLVED_CONFIG',
    'MIRRORD_PROGRESS_MODE',
    'mirrord_agent_image',
    'Mirrord_X',
  ])('refuses the reserved name %s', (name) => {
    const error = expectCode(() => parseCallerEnv({ [name]: 'x' }), 'INVALID_ARGUMENT');
    expect(error.message).toContain('reserved');
    expect(error.message).toContain(name);
  });

  it('MIRRORD without the underscore is an ordinary name', () => {
    expect(parseCallerEnv({ MIRRORDX: '1', MY_MIRRORD_X: '2' })).toEqual({
      MIRRORDX: '1',
      MY_MIRRORD_X: '2',
    });
  });

  it('refuses a NUL byte in a value', () => {
    const error = expectCode(() => parseCallerEnv({ A: 'x\0y' }), 'INVALID_ARGUMENT');
    expect(error.message).toContain('"A"');
    expect(error.message).toContain('NUL');
  });

  it.each(['{{ get_env(name="HOME") }}', '{% if x %}', '{# c #}'])(
    'refuses the template delimiter in %j',
    (value) => {
      const error = expectCode(() => parseCallerEnv({ TOKEN: value }), 'TEMPLATE_DELIMITER');
      expect(error.details).toEqual({ key: 'env.TOKEN' });
    },
  );
});

describe('JSON error positions on every Node version (regression)', () => {
  it.each([
    ['{"a":\n  }', /line 2, column 3/],
    ['nope', /line 1, column 1/],
    ['{"feature": {"fs": }', /line 1, column 20/],
    ['{"a":1} x', /line 1, column 9/],
  ])('points at the error in %j', (text, where) => {
    expect(() => parseCallerConfig(text)).toThrow(where);
  });
});

describe('parseCallerConfig: prototype keys', () => {
  it.each([
    '{"__proto__": {"agent": {"privileged": true}}}',
    '{"feature": {"env": {"override": {"__proto__": {"x": "1"}}}}}',
    '{"feature": {"network": {"incoming": {"mode": "steal", "http_filter": {"__proto__": 1}}}}}',
  ])('refuses a "__proto__" key anywhere: %s', (input) => {
    const error = expectCode(() => parseCallerConfig(input), 'INVALID_MIRRORD_CONFIG');
    expect(error.message).toContain('"__proto__" key');
  });
});
