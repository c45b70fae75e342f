/**
 * OCI references as Docker and ORAS write them: `[registry[:port]/]repository[:tag][@sha256:…]`.
 * The first component is a registry when it has a dot or a port, or is `localhost`; else the
 * reference is on Docker Hub (whose one-component repositories live under `library/`).
 */
import { BlastError, ExitCode } from '../cli/errors.js';

export interface Reference {
  /** `host[:port]` as written (Docker Hub: `docker.io`). */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's API really is. */
const DOCKER_HUB_API = 'registry-1.docker.io';

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const DIGEST = /^sha256:[0-9a-f]{64}$/;

function bad(ref: string, why: string): BlastError {
  return new BlastError(
    `${JSON.stringify(ref)} is not an OCI reference: ${why}.`,
    ExitCode.usage,
    'Write it like registry.example/team/api:2026-12 (or …@sha256:<digest>).',
  );
}

export function parseReference(ref: string): Reference {
  let rest = ref.trim();
  if (rest === '') throw bad(ref, 'it is empty');
  if (/^[a-z]+:\/\//i.test(rest)) throw bad(ref, 'give the registry without a scheme (no https://)');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(ref, `${digest} is not a sha256 digest`);
  }
  const slash = rest.indexOf('/');
  let registry = DOCKER_HUB;
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(ref, `the tag ${JSON.stringify(tag)} has characters a tag cannot have`);
  }
  let repository = rest;
  if (!REPOSITORY.test(repository))
    throw bad(ref, `the repository ${JSON.stringify(repository)} must be lower-case path components`);
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (!tag && !digest) tag = 'latest';
  return { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The host the API is reached at. */
export function apiHost(ref: Pick<Reference, 'registry'>): string {
  return ref.registry === DOCKER_HUB ? DOCKER_HUB_API : ref.registry;
}

/** What the manifest is fetched and pushed by: the digest when given, else the tag. */
export function manifestReference(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

export function formatReference(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Whether `host[:port]` is this machine (plain HTTP is allowed only there, and only when asked). */
export function isLoopback(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.split(':')[0]!;
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}
