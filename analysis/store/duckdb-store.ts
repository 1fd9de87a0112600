// The embedded TraceStore: one DuckDB file under the data dir.
//
//   spans(trace_id, span_id, parent_span_id, name, kind, service, start_us, end_us, status,
//         attributes JSON text, extra JSON text | NULL, resource_id)
//   resources(resource_id, attributes JSON text)      -- each distinct resource stored once
//
// `extra` holds the rarely-present parts ({statusMessage, events, links, traceState}) and is NULL
// when all are empty. Ingest goes through DuckDB's Appender; its cost is per value appended
// (≈0.2 µs a call plus the bytes), so a row is kept to 12 values and resources — often the
// largest part of a span — are deduplicated. Spans that arrive as SpanRows (the OTLP protobuf
// receivers' output) already carry their JSON columns and are appended as they are; plain Spans
// are serialised here. Reads use a second connection so queries never wait behind a batch.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import type { AttributeValue, Span, SpanKind, StatusCode } from '../model.ts';
import { extraJson, type SpanExtra, SpanRow } from '../span-row.ts';
import type {
  Operation,
  RetentionPolicy,
  RetentionResult,
  SpanRelink,
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
  /**
   * WAL size that triggers a checkpoint (DuckDB wal_autocheckpoint; default '64MB', DuckDB's own
   * is 16MB). Checkpoints compress row groups — most of the store's ingest cost — and fewer, larger
   * ones cost less per span.
   */
  walAutocheckpoint?: string;
  /**
   * Compress the attributes column (default true). Off, ingest costs less CPU per span and the
   * file grows about threefold.
   */
  compressAttributes?: boolean;
}

export const DATABASE_FILE = 'meshtrace-spans.duckdb';

const COLUMNS = `s.trace_id, s.span_id, s.parent_span_id, s.name, s.kind, s.service, s.start_us::DOUBLE,
  s.end_us::DOUBLE, s.status, s.attributes, s.extra, r.attributes`;
const FROM = 'spans s JOIN resources r USING (resource_id)';

// StoreStats.bytes per span: a fixed cost for ids, times, kind/status and resource reference, plus
// the variable text. Shared resources are not counted per span.
const ROW_OVERHEAD = 96;
const SPAN_BYTES = `(${ROW_OVERHEAD} + length(name) + length(service) + length(attributes) + coalesce(length(extra), 0))`;

const MAX_LIMIT = 1000;

export class DuckDBTraceStore implements TraceStore {
  private writeChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Resource attribute objects seen recently → their resource_id (the converter shares one object per resource). */
  private resourceByObject = new WeakMap<object, number>();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly reader: DuckDBConnection,
    /** Resource JSON text → resource_id, for every stored resource. */
    private readonly resourceIds: Map<string, number>,
    private nextResourceId: number,
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
      wal_autocheckpoint: options.walAutocheckpoint ?? '64MB',
    });
    const writer = await instance.connect();
    await writer.run(
      `CREATE TABLE IF NOT EXISTS resources (resource_id INTEGER PRIMARY KEY, attributes VARCHAR NOT NULL)`,
    );
    await writer.run(`CREATE TABLE IF NOT EXISTS spans (
      trace_id VARCHAR NOT NULL, span_id VARCHAR NOT NULL, parent_span_id VARCHAR,
      name VARCHAR NOT NULL, kind VARCHAR NOT NULL, service VARCHAR NOT NULL,
      start_us BIGINT NOT NULL, end_us BIGINT NOT NULL, status VARCHAR NOT NULL,
      attributes VARCHAR NOT NULL${options.compressAttributes === false ? ' USING COMPRESSION uncompressed' : ''},
      extra VARCHAR, resource_id INTEGER NOT NULL)`);
    const known = await writer.runAndReadAll('SELECT attributes, resource_id FROM resources');
    const resourceIds = new Map(known.getRows().map((r) => [r[0] as string, r[1] as number]));
    const reader = await instance.connect();
    const next = Math.max(0, ...resourceIds.values()) + 1;
    return new DuckDBTraceStore(instance, writer, reader, resourceIds, next);
  }

  /** Serialises writes (appends, retention) on the write connection. */
  private write<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('trace store is closed'));
    const run = this.writeChain.then(fn);
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  /** resource_id for a span's resource, registering new ones in `fresh` (inserted before the spans). */
  private resourceId(span: Span, fresh: [number, string][]): number {
    // a SpanRow's resource is shared by the spans of its request and already JSON text
    const resource: object = span instanceof SpanRow ? span.resourceRow : span.resource;
    let id = this.resourceByObject.get(resource);
    if (id !== undefined) return id;
    const text = span instanceof SpanRow ? span.resourceRow.json : JSON.stringify(resource);
    id = this.resourceIds.get(text);
    if (id === undefined) {
      id = this.nextResourceId++;
      this.resourceIds.set(text, id);
      fresh.push([id, text]);
    }
    this.resourceByObject.set(resource, id);
    return id;
  }

  append(spans: readonly Span[]): Promise<void> {
    if (spans.length === 0) return Promise.resolve();
    return this.write(async () => {
      const fresh: [number, string][] = [];
      const resourceIds = spans.map((s) => this.resourceId(s, fresh));
      try {
        if (fresh.length > 0) {
          const r = await this.writer.createAppender('resources');
          for (const [id, text] of fresh) {
            r.appendInteger(id);
            r.appendVarchar(text);
            r.endRow();
          }
          r.flushSync();
          r.closeSync();
        }
      } catch (err) {
        for (const [, text] of fresh) this.resourceIds.delete(text);
        this.resourceByObject = new WeakMap();
        throw err;
      }
      const a = await this.writer.createAppender('spans');
      try {
        for (let i = 0; i < spans.length; i++) {
          const s = spans[i] as Span;
          a.appendVarchar(s.traceId);
          a.appendVarchar(s.spanId);
          if (s.parentSpanId === null) a.appendNull();
          else a.appendVarchar(s.parentSpanId);
          a.appendVarchar(s.name);
          a.appendVarchar(s.kind);
          a.appendVarchar(s.service);
          a.appendDouble(s.startUs); // converted to BIGINT by the appender; avoids a BigInt per value
          a.appendDouble(s.endUs);
          a.appendVarchar(s.status);
          const row = s instanceof SpanRow;
          a.appendVarchar(row ? s.attributesJson : JSON.stringify(s.attributes));
          const extra = row ? s.extraJson : extraJson(s);
          if (extra === null) a.appendNull();
          else a.appendVarchar(extra);
          a.appendInteger(resourceIds[i] as number);
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
    const rows = await this.rows(`SELECT ${COLUMNS} FROM ${FROM} WHERE s.trace_id = ? ORDER BY s.start_us, s.span_id`, [
      traceId.toLowerCase(),
    ]);
    return rows.map(rowToSpan);
  }

  async findTraces(q: TraceQuery): Promise<TraceSummary[]> {
    const where: string[] = [];
    const values: DuckDBValue[] = [];
    if (q.service !== undefined) {
      where.push('s.service = ?');
      values.push(q.service);
    }
    if (q.operation !== undefined) {
      where.push('s.name = ?');
      values.push(q.operation);
    }
    for (const [key, value] of Object.entries(q.tags ?? {})) {
      const path = `$."${key.replace(/["\\]/g, (c) => `\\${c}`)}"`;
      const text = String(value);
      let cond = '(json_extract_string(s.attributes, ?) = ? OR json_extract_string(r.attributes, ?) = ?';
      values.push(path, text, path, text);
      if (key === 'error' && text === 'true') cond += " OR s.status = 'error'"; // Jaeger's error tag
      where.push(`${cond})`);
    }
    const num = (name: string, v: number | undefined, op: string, col: string) => {
      if (v === undefined) return;
      if (!Number.isFinite(v)) throw new Error(`findTraces: ${name} must be a finite number, got ${v}`);
      where.push(`${col} ${op} ?`);
      values.push(BigInt(Math.trunc(v)));
    };
    num('minDurationUs', q.minDurationUs, '>=', '(s.end_us - s.start_us)');
    num('maxDurationUs', q.maxDurationUs, '<=', '(s.end_us - s.start_us)');
    num('startUs', q.startUs, '>=', 's.start_us');
    num('endUs', q.endUs, '<', 's.start_us');
    const limit = Math.min(Math.max(Math.trunc(q.limit ?? 20), 1), MAX_LIMIT);
    const rows = await this.rows(
      `WITH hits AS (
         SELECT s.trace_id, max(s.start_us) AS latest FROM ${FROM}
         ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         GROUP BY s.trace_id ORDER BY latest DESC, s.trace_id LIMIT ${limit})
       SELECT ${COLUMNS} FROM ${FROM} JOIN hits ON hits.trace_id = s.trace_id
       ORDER BY hits.latest DESC, s.trace_id, s.start_us, s.span_id`,
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
      `${traces} SELECT ${COLUMNS} FROM ${FROM} JOIN c ON c.trace_id = s.trace_id WHERE c.cum <= ?
       ORDER BY c.first_us, s.trace_id, s.start_us, s.span_id`,
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
                  SELECT trace_id, sum(sum(${SPAN_BYTES})) OVER (ORDER BY max(end_us) DESC, trace_id
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
      if (result.deletedSpans > 0) {
        const orphans = await this.writer.runAndReadAll(
          'DELETE FROM resources WHERE resource_id NOT IN (SELECT DISTINCT resource_id FROM spans) RETURNING attributes',
        );
        for (const [text] of orphans.getRows()) this.resourceIds.delete(text as string);
        this.resourceByObject = new WeakMap();
        await this.writer.run('CHECKPOINT'); // lets DuckDB reuse the freed blocks
      }
      return result;
    });
  }

  relinkSpans(changes: readonly SpanRelink[]): Promise<number> {
    if (changes.length === 0) return Promise.resolve(0);
    return this.write(async () => {
      // One transaction: a reader sees a linked trace whole or not at all.
      await this.writer.run('BEGIN TRANSACTION');
      try {
        let changed = 0;
        for (const c of changes) {
          const r = await this.writer.run(
            'UPDATE spans SET trace_id = ?, parent_span_id = ?, attributes = ? WHERE trace_id = ? AND span_id = ?',
            [c.newTraceId, c.parentSpanId, JSON.stringify(c.attributes), c.traceId, c.spanId],
          );
          changed += r.rowsChanged;
        }
        await this.writer.run('COMMIT');
        return changed;
      } catch (err) {
        await this.writer.run('ROLLBACK');
        throw err;
      }
    });
  }

  async stats(): Promise<StoreStats> {
    const [row] = await this.rows(
      `SELECT count(*)::DOUBLE, count(DISTINCT trace_id)::DOUBLE, coalesce(sum(${SPAN_BYTES}), 0)::DOUBLE FROM spans`,
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
  const extra: SpanExtra = r[10] === null ? {} : (JSON.parse(r[10] as string) as SpanExtra);
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
    statusMessage: extra.statusMessage ?? '',
    attributes: JSON.parse(r[9] as string) as Record<string, AttributeValue>,
    resource: JSON.parse(r[11] as string) as Record<string, AttributeValue>,
    events: extra.events ?? [],
    links: extra.links ?? [],
  };
  if (extra.traceState !== undefined) span.traceState = extra.traceState;
  return span;
}

export const openDuckDBStore = (options?: DuckDBStoreOptions): Promise<DuckDBTraceStore> =>
  DuckDBTraceStore.open(options);
