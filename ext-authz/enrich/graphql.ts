// Names a GraphQL operation from a buffered JSON request body ({query, operationName}, GraphQL
// over HTTP spec §"Request Parameters"). Only the name and type are taken — never variables,
// which routinely hold personal data.
import { type Attrs, truncate } from './types.ts';

const OPERATION = /^\s*(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/;

export function graphqlAttributes(body: Buffer, maxBytes: number): Attrs {
  if (body.length === 0 || body.length > maxBytes) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return {};
  }
  const op = Array.isArray(doc) ? doc[0] : doc;
  if (typeof op !== 'object' || op === null) return {};
  const { query, operationName } = op as { query?: unknown; operationName?: unknown };
  if (typeof query !== 'string') return {};
  const out: Attrs = {};
  // Skip leading comments so "# note\nquery Q" is still recognised.
  const stripped = query.replace(/^(\s*#[^\n]*\n)+/, '');
  const m = OPERATION.exec(stripped);
  if (m) out['graphql.operation.type'] = m[1] as string;
  else if (/^\s*\{/.test(stripped)) out['graphql.operation.type'] = 'query';
  const name = typeof operationName === 'string' && operationName.length > 0 ? operationName : m?.[2];
  if (name) out['graphql.operation.name'] = truncate(name, 128);
  if (Array.isArray(doc)) out['meshtrace.graphql.batch_size'] = doc.length;
  return out;
}
