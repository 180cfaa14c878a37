import type { Identity } from '../auth/identity.js';
import { AppError } from '../errors.js';
import { ExpiringCache } from '../expiring-cache.js';
import type { KubeClient } from '../kube/client.js';
import { subjectCan, type AccessQuestion } from '../kube/access-review.js';

/** What a caller must be allowed in a namespace to mirror a workload there (a port-forward to a pod). */
export const mirrorPermissions: readonly Omit<AccessQuestion, 'namespace'>[] = [
  { verb: 'get', group: '', resource: 'pods' },
  { verb: 'create', group: '', resource: 'pods', subresource: 'portforward' },
];

const cacheMs = 30_000;
const maxCached = 5000;

export interface ClusterAuthorizer {
  /** Throws ACCESS_DENIED unless the cluster's RBAC lets the caller mirror in this namespace. */
  check(identity: Identity, namespace: string, signal?: AbortSignal): Promise<void>;
}

/**
 * Authorization by the cluster (`auth.subjectAccessReview`): SubjectAccessReviews ask whether the
 * caller's identity (user and groups) may `get pods` and `create pods/portforward` in the target
 * namespace, so the cluster's RBAC decides who may mirror what. Answers are cached for 30 s per
 * identity and namespace; an API failure refuses the run (fail closed) with the API's error.
 */
export function createClusterAuthorizer(kube: KubeClient): ClusterAuthorizer {
  // The permission the caller lacks, or null when it has them all.
  const cache = new ExpiringCache<string | null>(maxCached);
  return {
    async check(identity, namespace, signal) {
      const key = JSON.stringify([identity.subject, [...identity.groups].sort(), namespace]);
      let missing = cache.get(key);
      if (missing === undefined) {
        const answers = await Promise.all(
          mirrorPermissions.map(async (question) => ({
            question,
            allowed: await subjectCan(
              kube,
              { user: identity.subject, groups: identity.groups },
              { ...question, namespace },
              signal,
            ),
          })),
        );
        const denied = answers.find((answer) => !answer.allowed)?.question;
        missing = denied
          ? `${denied.verb} ${denied.resource}${denied.subresource ? `/${denied.subresource}` : ''}`
          : null;
        cache.set(key, missing, cacheMs);
      }
      if (missing !== null) {
        throw new AppError(
          'ACCESS_DENIED',
          `the cluster's RBAC does not let ${identity.subject} ${missing} in namespace "${namespace}"`,
          { namespace, missing },
        );
      }
    },
  };
}
