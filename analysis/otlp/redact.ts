// Credentials never reach the store: an attribute whose last key segment names a secret-bearing
// header or field (http.request.header.authorization, …cookie, api_key, password, token …) keeps
// its key — so analyses can still see that one was present — but its value becomes REDACTED.
const SECRET_KEY =
  /(^|[._-])(authorization|proxy[-_]authorization|cookie|set[-_]cookie|x[-_]api[-_]key|api[-_]key|apikey|password|passwd|secret|client[-_]secret|token|access[-_]token|refresh[-_]token|id[-_]token|bearer)$/i;

export const REDACTED = '[REDACTED]';

// Attribute keys repeat across spans, so decisions are memoised (bounded: cleared when full).
const decided = new Map<string, boolean>();
const MAX_DECIDED = 4096;

export function isSecretKey(key: string): boolean {
  let secret = decided.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY.test(key);
    if (decided.size >= MAX_DECIDED) decided.clear();
    decided.set(key, secret);
  }
  return secret;
}
