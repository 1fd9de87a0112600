// Credentials never reach the store: an attribute whose last key segment names a secret-bearing
// header or field (http.request.header.authorization, …cookie, api_key, password, token …) keeps
// its key — so analyses can still see that one was present — but its value becomes REDACTED.
const SECRET_KEY =
  /(^|[._-])(authorization|proxy[-_]authorization|cookie|set[-_]cookie|x[-_]api[-_]key|api[-_]key|apikey|password|passwd|secret|client[-_]secret|token|access[-_]token|refresh[-_]token|id[-_]token|bearer)$/i;

export const REDACTED = '[REDACTED]';

export const isSecretKey = (key: string): boolean => SECRET_KEY.test(key);
