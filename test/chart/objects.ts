import type { KubeObject } from './helm.js';

/** The one object of a kind (and name suffix); fails the test when there is not exactly one. */
export function only(objects: KubeObject[], kind: string, nameSuffix = ''): KubeObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name.endsWith(nameSuffix));
  if (found.length !== 1) {
    throw new Error(
      `expected one ${kind} named *${nameSuffix}, found ${found.map((o) => o.metadata.name).join(', ') || 'none'}`,
    );
  }
  return found[0]!;
}

/** The server's config file as the ConfigMap holds it. */
export function configFileText(objects: KubeObject[]): string {
  const data = only(objects, 'ConfigMap').data as Record<string, string>;
  const text = data['config.yaml'];
  if (text === undefined) throw new Error('the ConfigMap has no config.yaml');
  return text;
}

/** A Secret's data, decoded. */
export function secretData(secret: KubeObject): Record<string, string> {
  return Object.fromEntries(
    Object.entries(secret.data as Record<string, string>).map(([key, value]) => [
      key,
      Buffer.from(value, 'base64').toString('utf8'),
    ]),
  );
}
