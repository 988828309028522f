/**
 * The forwarder: many calls from inside the pod, typically through its own sidecar, with a
 * concurrency and an optional rate. Keep-alive calls share an undici Pool, as an app's HTTP
 * client would; otherwise each call gets its own connection (through the caller).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Pool } from 'undici';
import { call } from '../../traffic/caller.ts';
import { classifyError } from '../../traffic/classify-error.ts';
import { ECHO_HEADER, REQUEST_INDEX_HEADER } from '../../traffic/echo-report.ts';
import { flattenHeaders } from '../../traffic/senders/http-sender.ts';
import type { CallRequest, ForwardRequest, ForwardResponse, ForwardResult, Observation } from '../../traffic/types.ts';

const MAX_COUNT = 100_000;

export async function forward(spec: ForwardRequest, from: string, defaultTimeoutMs: number): Promise<ForwardResponse> {
  if (!Number.isInteger(spec.count) || spec.count < 1 || spec.count > MAX_COUNT) throw new RangeError(`count must be 1..${MAX_COUNT}, got ${spec.count}`);
  if (spec.ratePerSecond !== undefined && !(spec.ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be above 0, got ${spec.ratePerSecond}`);
  const concurrency = Math.max(1, Math.min(spec.concurrency ?? 1, spec.count));
  const timeoutMs = spec.request.timeoutMs ?? defaultTimeoutMs;
  const keepAlive = spec.keepAlive ?? true;
  if (keepAlive && spec.request.protocol !== 'http') throw new RangeError('keep-alive forwarding is for plaintext HTTP to the local sidecar; set keepAlive: false for other protocols');
  const startedAt = Date.now();
  const pool = keepAlive ? new Pool(`http://${spec.request.host}:${spec.request.port}`, { connections: concurrency, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }) : undefined;
  const results: ForwardResult[] = new Array(spec.count);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const index = next++;
      if (index >= spec.count) return;
      if (spec.ratePerSecond !== undefined) {
        const wait = startedAt + (index * 1000) / spec.ratePerSecond - Date.now();
        if (wait > 0) await delay(wait);
      }
      // Numbered, so that every attempt an app receives (retries included) names its request.
      const request = { ...spec.request, headers: { ...spec.request.headers, [REQUEST_INDEX_HEADER]: String(index) } };
      const began = Date.now();
      const result = pool === undefined ? fromObservation(await call(request, timeoutMs)) : await pooledCall(pool, request, timeoutMs);
      results[index] = { index, startedAtMs: began - startedAt, durationMs: Date.now() - began, ...result };
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await pool?.destroy();
  }
  return { from, startedAt, results };
}

type Partial_ = Omit<ForwardResult, 'index' | 'startedAtMs' | 'durationMs'>;

async function pooledCall(pool: Pool, request: CallRequest, timeoutMs: number): Promise<Partial_> {
  try {
    const response = await pool.request({
      method: request.method ?? 'GET',
      path: request.path ?? '/',
      headers: { ...request.headers },
      body: request.body ?? null,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.body.text();
    return summarize(response.statusCode, flattenHeaders(response.headers), text);
  } catch (error) {
    const failure = classifyError(error);
    return { outcome: failure.outcome, errorCode: failure.code };
  }
}

function fromObservation(observation: Observation): Partial_ {
  if (observation.outcome !== 'response') return { outcome: observation.outcome, ...(observation.error === undefined ? {} : { errorCode: observation.error.code }) };
  return summarize(observation.status ?? 0, observation.headers ?? {}, observation.body ?? '');
}

function summarize(status: number, headers: Readonly<Record<string, string>>, body: string): Partial_ {
  const interesting: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (name.startsWith('x-envoy-') || name.startsWith('x-meshproof-')) interesting[name] = value;
  const echoPod = headers[ECHO_HEADER];
  let servedBy = echoPod ?? headers['x-meshproof-pod'];
  if (echoPod !== undefined) {
    try {
      servedBy = (JSON.parse(body) as { pod?: string }).pod ?? echoPod;
    } catch {
      // keep the header's pod
    }
  }
  return {
    outcome: 'response',
    status,
    ...(servedBy === undefined ? {} : { servedBy }),
    ...(Object.keys(interesting).length === 0 ? {} : { headers: interesting }),
    ...(echoPod === undefined && body !== '' ? { body: body.slice(0, 200) } : {}),
  };
}
