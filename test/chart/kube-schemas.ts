import type { KubeObject } from './helm.js';

/**
 * Validation of rendered objects against the OpenAPI schemas of Kubernetes v1.36 as shipped (compiled
 * to validators) by the devDependency `kubernetes-models` 5.x: types, formats, enums and required
 * fields from the schemas, plus kubectl's strict field validation: a field the schema does not
 * define is refused.
 *
 * The compiled validators do not check for unknown fields themselves, so each object is wrapped in
 * a Proxy that records which keys the validator looks up. An object validator looks up every field
 * its schema defines (present or not), and a map (labels, ConfigMap data) is enumerated; so a key of
 * a non-enumerated object that the validator never looked up is a field unknown to the schema.
 */

interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}
type Validate = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

interface Tracked {
  path: string;
  value: Record<string, unknown>;
  read: Set<string>;
  enumerated: boolean;
}

function track(value: unknown, path: string, seen: Tracked[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    return new Proxy(
      value.map((item, index) => track(item, `${path}/${index}`, seen)),
      {},
    );
  }
  const record: Tracked = {
    path,
    value: value as Record<string, unknown>,
    read: new Set(),
    enumerated: false,
  };
  seen.push(record);
  const copy = Object.fromEntries(
    Object.entries(value).map(([key, child]) => [key, track(child, `${path}/${key}`, seen)]),
  );
  return new Proxy(copy, {
    get(target, key, receiver) {
      if (typeof key === 'string') record.read.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
    has(target, key) {
      if (typeof key === 'string') record.read.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      record.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

/** "rbac.authorization.k8s.io/v1" + "Role" -> "IoK8sApiRbacV1Role" (the OpenAPI definition's name). */
export function definitionName(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  const first = (group ?? '').split('.')[0] ?? '';
  const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
  return `IoK8sApi${cap(first)}${cap(version ?? '')}${kind}`;
}

async function validatorFor(apiVersion: string, kind: string): Promise<Validate> {
  const name = definitionName(apiVersion, kind);
  try {
    const module = (await import(`kubernetes-models/_schemas/${name}`)) as { validate: Validate };
    return module.validate;
  } catch (error) {
    throw new Error(`no Kubernetes schema for ${apiVersion} ${kind} (${name}): ${(error as Error).message}`);
  }
}

/** Every problem of one object against its schema: empty when it is valid. */
export async function kubeSchemaErrors(object: KubeObject): Promise<string[]> {
  const validate = await validatorFor(object.apiVersion, object.kind);
  const seen: Tracked[] = [];
  const valid = validate(track(object, '', seen));
  const problems = valid
    ? []
    : (validate.errors ?? []).map(
        (e) => `${e.instancePath || '/'}: ${e.message ?? `${e.keyword} ${JSON.stringify(e.params)}`}`,
      );
  for (const record of seen) {
    if (record.enumerated) continue;
    for (const key of Object.keys(record.value)) {
      if (!record.read.has(key)) problems.push(`${record.path}/${key}: unknown field`);
    }
  }
  return problems;
}
