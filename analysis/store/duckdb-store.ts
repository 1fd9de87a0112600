// The embedded TraceStore: one DuckDB file under the data dir. One row per span; the nested parts
// (attributes, resource, events, links) are JSON text queried with DuckDB's json functions.
// Ingest goes through DuckDB's Appender (bulk rows without SQL parsing), on a write connection
// separate from the read connection so queries never wait behind a batch.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { AttributeValue, Span, SpanKind, StatusCode } from '../model.ts';
import type {
  Operation,
  RetentionPolicy,
  RetentionResult,
  StoreStats,
  TraceQuery,
  TraceStore,
  TraceSummary,
} from './trace-store.ts';

export interface DuckDBStoreOptions {
  /** Directory for the database file (created if missing); omitted → an in-memory database. */
  dataDir?: string;
  /** DuckDB worker threads (default 1: ingest is append-bound, and the host is shared). */
  threads?: number;
  /** DuckDB memory_limit, e.g. '512MB' (default). */
  memoryLimit?: string;
}

export const DATABASE_FILE = 'meshtrace-spans.duckdb';

const COLUMNS = `trace_id, span_id, parent_span_id, name, kind, service, start_us::DOUBLE, end_us::DOUBLE,
  status, status_message, attributes, resource, events, links, trace_state`;

// Fixed per-row cost in StoreStats.bytes: two ids, two times, duration, kind/status, size.
const ROW_OVERHEAD = 96;

const MAX_LIMIT = 1000;

export class DuckDBTraceStore implements TraceStore {
  private writeChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private resourceJson = new WeakMap<object, string>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
  ) {}

  static async open(options: DuckDBStoreOptions = {}): Promise<DuckDBTraceStore> {
    let path = ':memory:';
    if (options.dataDir !== undefined) {
      mkdirSync(options.dataDir, { recursive: true });
      path = join(options.dataDir, DATABASE_FILE);
    }
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1)
      throw new Error(`DuckDB store: threads must be a positive integer, got ${threads}`);
    const instance = await DuckDBInstance.create(path, {
      threads: String(threads),
      memory_limit: options.memoryLimit ?? '512MB',
    });
    const writer = await instance.connect();
    await writer.run(`CREATE TABLE IF NOT EXISTS spans (
      trace_id VARCHAR NOT NULL, span_id VARCHAR NOT NULL, parent_span_id VARCHAR,
      name VARCHAR NOT NULL, kind VARCHAR NOT NULL, service VARCHAR NOT NULL,
      start_us BIGINT NOT NULL, end_us BIGINT NOT NULL, duration_us BIGINT NOT NULL,
      status VARCHAR NOT NULL, status_message VARCHAR NOT NULL,
      attributes VARCHAR NOT NULL, resource VARCHAR NOT NULL, events VARCHAR NOT NULL, links VARCHAR NOT NULL,
      trace_state VARCHAR, size_bytes INTEGER NOT NULL)`);
    const reader = await instance.connect();
    return new DuckDBTraceStore(instance, writer, reader);
  }

  /** Serialises writes (appends, retention) on the write connection. */
  private write<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('trace store is closed'));
    const run = this.writeChain.then(fn);
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  private resourceText(resource: Span['resource']): string {
    let s = this.resourceJson.get(resource);
    if (s === undefined) {
      s = JSON.stringify(resource);
      this.resourceJson.set(resource, s);
    }
    return s;
  }

  append(spans: readonly Span[]): Promise<void> {
    if (spans.length === 0) return Promise.resolve();
    return this.write(async () => {
      const a = await this.writer.createAppender('spans');
      try {
        for (const s of spans) {
          const attributes = JSON.stringify(s.attributes);
          const resource = this.resourceText(s.resource);
          const events = s.events.length === 0 ? '[]' : JSON.stringify(s.events);
          const links = s.links.length === 0 ? '[]' : JSON.stringify(s.links);
          a.appendVarchar(s.traceId);
          a.appendVarchar(s.spanId);
          if (s.parentSpanId === null) a.appendNull();
          else a.appendVarchar(s.parentSpanId);
          a.appendVarchar(s.name);
          a.appendVarchar(s.kind);
          a.appendVarchar(s.service);
          a.appendBigInt(BigInt(s.startUs));
          a.appendBigInt(BigInt(s.endUs));
          a.appendBigInt(BigInt(s.endUs - s.startUs));
          a.appendVarchar(s.status);
          a.appendVarchar(s.statusMessage);
          a.appendVarchar(attributes);
          a.appendVarchar(resource);
          a.appendVarchar(events);
          a.appendVarchar(links);
          if (s.traceState === undefined) a.appendNull();
          else a.appendVarchar(s.traceState);
          a.appendInteger(
            ROW_OVERHEAD +
              s.name.length +
              s.service.length +
              s.statusMessage.length +
              attributes.length +
              resource.length +
              events.length +
              links.length,
          );
          a.endRow();
        }
        a.flushSync();
      } finally {
        a.closeSync();
      }
    });
  }

  private async rows(sql: string, values: DuckDBValue[] = []): Promise<DuckDBValue[][]> {
    if (this.closed) throw new Error('trace store is closed');
    const r = await this.reader.runAndReadAll(sql, values);
    return r.getRows();
  }

  async getTrace(traceId: string): Promise<Span[]> {
    const rows = await this.rows(`SELECT ${COLUMNS} FROM spans WHERE trace_id = ? ORDER BY start_us, span_id`, [
      traceId.toLowerCase(),
    ]);
    return rows.map(rowToSpan);
  }

  async findTraces(q: TraceQuery): Promise<TraceSummary[]> {
    const where: string[] = [];
    const values: DuckDBValue[] = [];
    if (q.service !== undefined) {
      where.push('service = ?');
      values.push(q.service);
    }
    if (q.operation !== undefined) {
      where.push('name = ?');
      values.push(q.operation);
    }
    for (const [key, value] of Object.entries(q.tags ?? {})) {
      const path = `$."${key.replace(/["\\]/g, (c) => `\\${c}`)}"`;
      const text = String(value);
      let cond = '(json_extract_string(attributes, ?) = ? OR json_extract_string(resource, ?) = ?';
      values.push(path, text, path, text);
      if (key === 'error' && text === 'true') cond += " OR status = 'error'"; // Jaeger's error tag
      where.push(`${cond})`);
    }
    const num = (name: string, v: number | undefined, op: string, col: string) => {
      if (v === undefined) return;
      if (!Number.isFinite(v)) throw new Error(`findTraces: ${name} must be a finite number, got ${v}`);
      where.push(`${col} ${op} ?`);
      values.push(BigInt(Math.trunc(v)));
    };
    num('minDurationUs', q.minDurationUs, '>=', 'duration_us');
    num('maxDurationUs', q.maxDurationUs, '<=', 'duration_us');
    num('startUs', q.startUs, '>=', 'start_us');
    num('endUs', q.endUs, '<', 'start_us');
    const limit = Math.min(Math.max(Math.trunc(q.limit ?? 20), 1), MAX_LIMIT);
    const rows = await this.rows(
      `WITH hits AS (
         SELECT trace_id, max(start_us) AS latest FROM spans
         ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         GROUP BY trace_id ORDER BY latest DESC, trace_id LIMIT ${limit})
       SELECT ${COLUMNS} FROM spans JOIN hits USING (trace_id)
       ORDER BY hits.latest DESC, trace_id, start_us, span_id`,
      values,
    );
    const out: TraceSummary[] = [];
    for (const row of rows) {
      const span = rowToSpan(row);
      const last = out[out.length - 1];
      if (last !== undefined && last.traceId === span.traceId) last.spans.push(span);
      else out.push({ traceId: span.traceId, spans: [span] });
    }
    return out;
  }

  async services(): Promise<string[]> {
    const rows = await this.rows('SELECT DISTINCT service FROM spans ORDER BY service');
    return rows.map((r) => r[0] as string);
  }

  async operations(service: string): Promise<Operation[]> {
    const rows = await this.rows('SELECT DISTINCT name, kind FROM spans WHERE service = ? ORDER BY name, kind', [
      service,
    ]);
    return rows.map((r) => ({ name: r[0] as string, kind: r[1] as SpanKind }));
  }

  async spansInWindow(window: { startUs: number; endUs: number; limitSpans?: number }): Promise<{
    spans: Span[];
    truncatedTraces: number;
  }> {
    const { startUs, endUs } = window;
    if (!Number.isFinite(startUs) || !Number.isFinite(endUs) || endUs < startUs) {
      throw new Error(`spansInWindow: need finite startUs <= endUs, got [${startUs}, ${endUs})`);
    }
    const limitSpans = Math.max(0, Math.trunc(window.limitSpans ?? 1_000_000));
    const bounds = [BigInt(Math.trunc(startUs)), BigInt(Math.trunc(endUs))];
    const traces = `WITH t AS (
        SELECT trace_id, min(start_us) AS first_us, count(*) AS n FROM spans GROUP BY trace_id
        HAVING min(start_us) >= ? AND min(start_us) < ?),
      c AS (SELECT trace_id, first_us, sum(n) OVER (ORDER BY first_us, trace_id ROWS UNBOUNDED PRECEDING) AS cum FROM t)`;
    const [counted] = await this.rows(`${traces} SELECT count(*) FILTER (WHERE cum > ?)::DOUBLE FROM c`, [
      ...bounds,
      BigInt(limitSpans),
    ]);
    const rows = await this.rows(
      `${traces} SELECT ${COLUMNS} FROM spans JOIN c USING (trace_id) WHERE c.cum <= ?
       ORDER BY c.first_us, trace_id, start_us, span_id`,
      [...bounds, BigInt(limitSpans)],
    );
    return { spans: rows.map(rowToSpan), truncatedTraces: Number(counted?.[0] ?? 0) };
  }

  enforceRetention(policy: RetentionPolicy, nowUs: number = Date.now() * 1000): Promise<RetentionResult> {
    return this.write(async () => {
      const result: RetentionResult = { deletedTraces: 0, deletedSpans: 0 };
      const victims: { sql: string; values: DuckDBValue[] }[] = [];
      if (policy.maxAgeMs !== undefined) {
        victims.push({
          sql: 'SELECT trace_id FROM spans GROUP BY trace_id HAVING max(end_us) < ?',
          values: [BigInt(Math.trunc(nowUs - policy.maxAgeMs * 1000))],
        });
      }
      if (policy.maxBytes !== undefined) {
        // newest traces first; everything past the byte budget goes
        victims.push({
          sql: `SELECT trace_id FROM (
                  SELECT trace_id, sum(sum(size_bytes)) OVER (ORDER BY max(end_us) DESC, trace_id
                    ROWS UNBOUNDED PRECEDING) AS kept
                  FROM spans GROUP BY trace_id) WHERE kept > ?`,
          values: [BigInt(Math.max(0, Math.trunc(policy.maxBytes)))],
        });
      }
      for (const v of victims) {
        await this.writer.run('CREATE OR REPLACE TEMP TABLE retention_victims AS ' + v.sql, v.values);
        const traces = await this.writer.runAndReadAll('SELECT count(*)::DOUBLE FROM retention_victims');
        const deleted = await this.writer.run(
          'DELETE FROM spans WHERE trace_id IN (SELECT trace_id FROM retention_victims)',
        );
        result.deletedTraces += Number(traces.getRows()[0]?.[0] ?? 0);
        result.deletedSpans += deleted.rowsChanged;
      }
      await this.writer.run('DROP TABLE IF EXISTS retention_victims');
      if (result.deletedSpans > 0) await this.writer.run('CHECKPOINT'); // lets DuckDB reuse the freed blocks
      return result;
    });
  }

  async stats(): Promise<StoreStats> {
    const [row] = await this.rows(
      'SELECT count(*)::DOUBLE, count(DISTINCT trace_id)::DOUBLE, coalesce(sum(size_bytes), 0)::DOUBLE FROM spans',
    );
    return { spans: Number(row?.[0] ?? 0), traces: Number(row?.[1] ?? 0), bytes: Number(row?.[2] ?? 0) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true; // new writes are refused from here; queued ones finish first
    await this.writeChain;
    this.reader.closeSync();
    this.writer.closeSync();
    this.instance.closeSync();
  }
}

function rowToSpan(r: DuckDBValue[]): Span {
  const span: Span = {
    traceId: r[0] as string,
    spanId: r[1] as string,
    parentSpanId: (r[2] as string | null) ?? null,
    name: r[3] as string,
    kind: r[4] as SpanKind,
    service: r[5] as string,
    startUs: r[6] as number,
    endUs: r[7] as number,
    status: r[8] as StatusCode,
    statusMessage: r[9] as string,
    attributes: JSON.parse(r[10] as string) as Record<string, AttributeValue>,
    resource: JSON.parse(r[11] as string) as Record<string, AttributeValue>,
    events: JSON.parse(r[12] as string) as Span['events'],
    links: JSON.parse(r[13] as string) as Span['links'],
  };
  if (r[14] !== null) span.traceState = r[14] as string;
  return span;
}

export const openDuckDBStore = (options?: DuckDBStoreOptions): Promise<DuckDBTraceStore> =>
  DuckDBTraceStore.open(options);
