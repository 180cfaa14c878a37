import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../../src/mirrord/target.js';
import { incomingMode, targetLockFor } from '../../../src/runs/target-locks.js';

describe('incomingMode', () => {
  it.each([
    [{}, 'mirror'],
    [{ feature: null }, 'mirror'],
    [{ feature: {} }, 'mirror'],
    [{ feature: { network: null } }, 'mirror'],
    [{ feature: { network: true } }, 'mirror'],
    [{ feature: { network: false } }, 'off'],
    [{ feature: { network: {} } }, 'mirror'],
    [{ feature: { network: { incoming: null } } }, 'mirror'],
    [{ feature: { network: { incoming: true } } }, 'mirror'],
    [{ feature: { network: { incoming: false } } }, 'off'],
    [{ feature: { network: { incoming: 'mirror' } } }, 'mirror'],
    [{ feature: { network: { incoming: 'steal' } } }, 'steal'],
    [{ feature: { network: { incoming: 'off' } } }, 'off'],
    [{ feature: { network: { incoming: { mode: 'off' } } } }, 'off'],
    [{ feature: { network: { incoming: { mode: 'steal', http_filter: { header_filter: 'x' } } } } }, 'steal'],
    [{ feature: { network: { incoming: { mode: null, ports: [80] } } } }, 'mirror'],
    [{ feature: { network: { incoming: { ports: [80] } } } }, 'mirror'],
    [{ feature: { network: { incoming: 'bogus' } } }, 'mirror'],
  ])('%j -> %s', (config, mode) => {
    expect(incomingMode(config)).toBe(mode);
  });
});

describe('targetLockFor', () => {
  const mirror = {};
  const off = { feature: { network: { incoming: 'off' } } };

  it('locks a deployment or rollout by namespace and workload, whatever the container', () => {
    expect(targetLockFor(parseTarget('deployment/api'), 'staging', mirror)).toEqual({
      key: 'staging/deployment/api',
      label: 'deployment/api in staging',
    });
    expect(targetLockFor(parseTarget('deployment/api/container/app'), 'staging', mirror)?.key).toBe(
      'staging/deployment/api',
    );
    expect(targetLockFor(parseTarget('deploy/api'), 'staging', mirror)?.key).toBe('staging/deployment/api');
    expect(targetLockFor(parseTarget('rollout/canary'), 'default', mirror)?.key).toBe(
      'default/rollout/canary',
    );
  });

  it('locks when traffic is stolen too', () => {
    const steal = { feature: { network: { incoming: { mode: 'steal' } } } };
    expect(targetLockFor(parseTarget('deployment/api'), 'staging', steal)?.key).toBe(
      'staging/deployment/api',
    );
  });

  it('locks nothing for targetless runs or with incoming off', () => {
    expect(targetLockFor(parseTarget('targetless'), 'staging', mirror)).toBeUndefined();
    expect(targetLockFor(parseTarget('deployment/api'), 'staging', off)).toBeUndefined();
    expect(
      targetLockFor(parseTarget('deployment/api'), 'staging', { feature: { network: false } }),
    ).toBeUndefined();
  });

  it('locks a pod target by its owning deployment or rollout, so it never runs beside a run on its workload', () => {
    expect(targetLockFor(parseTarget('pod/api-7d9f-abc12'), 'default', mirror, 'deployment/api')).toEqual({
      key: 'default/deployment/api',
      label: 'deployment/api in default',
    });
    expect(targetLockFor(parseTarget('pod/canary-1'), 'default', mirror, 'rollout/canary')?.key).toBe(
      'default/rollout/canary',
    );
  });

  it('locks the pod itself when it has no owner mirrord could pick it for, or the owner is unknown', () => {
    expect(targetLockFor(parseTarget('pod/postgres-0'), 'staging', mirror, 'statefulset/postgres')?.key).toBe(
      'staging/pod/postgres-0',
    );
    expect(targetLockFor(parseTarget('pod/lonely'), 'staging', mirror, null)?.key).toBe('staging/pod/lonely');
    expect(targetLockFor(parseTarget('pod/lonely/container/app'), 'staging', mirror)?.key).toBe(
      'staging/pod/lonely',
    );
  });
});
