import type { KubeClient } from './client.js';

export interface AccessQuestion {
  verb: string;
  group: string;
  resource: string;
  subresource?: string | undefined;
  namespace?: string | undefined;
}

/** The review's resourceAttributes for a question. */
function resourceAttributes(question: AccessQuestion): Record<string, string> {
  return {
    verb: question.verb,
    group: question.group,
    resource: question.resource,
    ...(question.subresource ? { subresource: question.subresource } : {}),
    ...(question.namespace ? { namespace: question.namespace } : {}),
  };
}

/** Asks the API server whether the server's own identity may do this (SelfSubjectAccessReview). */
export async function canI(
  kube: KubeClient,
  question: AccessQuestion,
  signal?: AbortSignal,
): Promise<boolean> {
  const review = await kube.request(
    { verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' },
    (options) =>
      kube.authorization.createSelfSubjectAccessReview(
        {
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: {
              resourceAttributes: resourceAttributes(question),
            },
          },
        },
        options,
      ),
    signal,
  );
  return review.status?.allowed === true;
}

/** The identity the API server sees (SelfSubjectReview, Kubernetes >= 1.28). */
export async function whoAmI(
  kube: KubeClient,
  signal?: AbortSignal,
): Promise<{ username: string; groups: string[] } | undefined> {
  const review = await kube.request(
    { verb: 'create', resource: 'selfsubjectreviews', group: 'authentication.k8s.io' },
    (options) =>
      kube.authentication.createSelfSubjectReview(
        { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
        options,
      ),
    signal,
  );
  const user = review.status?.userInfo;
  return user?.username ? { username: user.username, groups: user.groups ?? [] } : undefined;
}

/** Asks the API server whether another identity may do this (SubjectAccessReview). */
export async function subjectCan(
  kube: KubeClient,
  subject: { user: string; groups: readonly string[] },
  question: AccessQuestion,
  signal?: AbortSignal,
): Promise<boolean> {
  const review = await kube.request(
    { verb: 'create', resource: 'subjectaccessreviews', group: 'authorization.k8s.io' },
    (options) =>
      kube.authorization.createSubjectAccessReview(
        {
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: subject.user,
              groups: [...subject.groups],
              resourceAttributes: resourceAttributes(question),
            },
          },
        },
        options,
      ),
    signal,
  );
  return review.status?.allowed === true && review.status.denied !== true;
}
