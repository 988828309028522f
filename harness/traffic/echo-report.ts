import type { EchoReport } from './types.ts';

/** The echo app marks its answers with this header, so a 200 from anything else is never mistaken for it. */
export const ECHO_HEADER = 'x-meshproof-echo';

/** The forwarder numbers each request it sends in this header, so the apps' own records say which request each attempt belonged to. */
export const REQUEST_INDEX_HEADER = 'x-meshproof-request-index';

/** Parses an echo app's answer; undefined for any other body. */
export function parseEcho(body: string, headers: Readonly<Record<string, string>>): EchoReport | undefined {
  if (headers[ECHO_HEADER] === undefined) return undefined;
  try {
    const parsed = JSON.parse(body) as Partial<EchoReport>;
    if (typeof parsed.pod !== 'string' || typeof parsed.requestId !== 'number') return undefined;
    return parsed as EchoReport;
  } catch {
    return undefined;
  }
}
