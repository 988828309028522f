/**
 * The user's intent file (`meshproof run --expect FILE`): what they mean their policies to do,
 * as a YAML list of requests and the decision each must get:
 *
 *   - from: prod-namespace/order-service-sa   # 'plaintext', 'namespace/serviceaccount' or a SPIFFE id
 *     to: prod-namespace/payment-service      # destination workload, namespace/name
 *     method: POST                            # default GET
 *     path: /pay/1                            # default /
 *     port: 8080                              # optional: the workload's container port
 *     expect: allow                           # allow | deny | reject
 *
 * checkIntents() compares each entry with what the oracle says Istio does under the policies,
 * before any container starts: "your policy allows X that you said must be denied". The same
 * entries are handed to the suites (MESHPROOF_EXPECT) to be probed live.
 *
 * Decisions: `allow` = the request reaches the app; `deny` = authorization refuses it (403), or
 * the sidecar rejects it as a bad request (400): either way the app never sees it; `reject` =
 * the connection is refused before HTTP (no mTLS: reset or handshake failure).
 */
import { LineCounter, parseDocument } from 'yaml';
import { parseRequestSource } from '../oracle/request-source.ts';
import { ErrorCode, MeshproofError, isMeshproofError, type SourceLocation } from '../errors.ts';
import type { Issue } from '../model/issues.ts';
import type { ResolvedMesh } from '../model/resolve.ts';
import { DocumentSource } from '../model/source-map.ts';
import { displayPath, documentData, readYamlFileText } from '../model/yaml-files.ts';
import type { Decision, DecisionOutcome } from '../oracle/decision.ts';
import { InboundOracle } from '../oracle/inbound.ts';

export const INTENT_DECISIONS = ['allow', 'deny', 'reject'] as const;
export type IntentDecision = (typeof INTENT_DECISIONS)[number];

export interface Intent {
  readonly from: string;
  readonly to: string;
  readonly method: string;
  readonly path: string;
  readonly port?: number;
  readonly expect: IntentDecision;
  /** Where the entry is in the intent file. */
  readonly location: SourceLocation;
}

const FIELDS = ['from', 'to', 'method', 'path', 'port', 'expect'];

/** Parses an intent file's text; every problem is an issue with file:line:field. */
export function parseIntents(text: string, file: string): { readonly intents: Intent[]; readonly issues: Issue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const source = new DocumentSource(file, doc, lines);
  const issues: Issue[] = [];
  const error = (path: (string | number)[], message: string, hint?: string): void => {
    issues.push({ severity: 'error', message, location: source.locate(path), ...(hint === undefined ? {} : { hint }) });
  };
  for (const e of doc.errors) {
    const pos = lines.linePos(e.pos[0]);
    issues.push({ severity: 'error', message: `not valid YAML: ${e.message.split('\n', 1)[0]}`, location: { file, line: pos.line, column: pos.col } });
  }
  if (issues.length > 0) return { intents: [], issues };
  const read = documentData(doc, file, 1);
  if ('issue' in read) return { intents: [], issues: [read.issue] };
  const value: unknown = read.data;
  if (!Array.isArray(value)) {
    error([], `an intent file is a YAML list of {from, to, method, path, expect}, found ${value === null ? 'nothing' : typeof value}`, 'start each entry with "- from: …"');
    return { intents: [], issues };
  }
  const intents: Intent[] = [];
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      error([i], `entry ${i + 1} is not a mapping of from, to, method, path, expect`);
      return;
    }
    const e = entry as Record<string, unknown>;
    const before = issues.length;
    for (const key of Object.keys(e)) if (!FIELDS.includes(key)) error([i, key], `unknown field '${key}'`, `the fields are ${FIELDS.join(', ')}`);
    const text = (key: string, fallback?: string): string => {
      const v = e[key];
      if (v === undefined && fallback !== undefined) return fallback;
      if (typeof v !== 'string' || v.trim() === '') {
        error([i, key], v === undefined ? `'${key}' is required` : `'${key}' must be a non-empty string, found ${JSON.stringify(v)}`);
        return '';
      }
      return v;
    };
    const from = text('from');
    const to = text('to');
    const method = text('method', 'GET');
    const path = text('path', '/');
    const expect = text('expect');
    if (expect !== '' && !INTENT_DECISIONS.includes(expect as IntentDecision)) error([i, 'expect'], `'expect' must be one of ${INTENT_DECISIONS.join(', ')}, found '${expect}'`);
    if (to !== '' && !/^[^/\s]+\/[^/\s]+$/.test(to)) error([i, 'to'], `'to' must be a workload as namespace/name, found '${to}'`);
    if (path !== '' && !path.startsWith('/')) error([i, 'path'], `'path' must start with '/', found '${path}'`);
    const port = e.port;
    if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)) error([i, 'port'], `'port' must be a port number, found ${JSON.stringify(port)}`);
    if (issues.length > before) return;
    intents.push({ from, to, method, path, expect: expect as IntentDecision, ...(typeof port === 'number' ? { port } : {}), location: source.locate([i]) });
  });
  return { intents, issues };
}

/** Reads and parses an intent file; throws (exit code 2) on any problem, naming file:line:field. */
export function readIntentFile(file: string): Intent[] {
  let text: string;
  try {
    text = readYamlFileText(file, 'intent file');
  } catch (cause) {
    if (isMeshproofError(cause, ErrorCode.FileNotFound)) throw new MeshproofError(ErrorCode.FileNotFound, `cannot read the intent file '${file}'`, { cause, location: { file }, hint: 'pass --expect FILE with a YAML list of {from, to, method, path, expect}' });
    throw cause;
  }
  const { intents, issues } = parseIntents(text, displayPath(file));
  const first = issues[0];
  if (first !== undefined) {
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more: ${issues.slice(1).map((i) => `line ${i.location.line ?? '?'}: ${i.message}`).join('; ')})` : '';
    throw new MeshproofError(ErrorCode.BadArgument, `${first.message}${more}`, { location: first.location, ...(first.hint === undefined ? {} : { hint: first.hint }) });
  }
  return intents;
}

/** How the oracle's outcome reads in the intent file's words. */
export function intentDecisionOf(outcome: DecisionOutcome): IntentDecision | 'not-supported' {
  switch (outcome) {
    case 'allowed':
      return 'allow';
    case 'denied':
    case 'unauthenticated':
    case 'bad-request':
      return 'deny';
    case 'connection-reset':
    case 'handshake-failed':
      return 'reject';
    case 'not-supported':
      return 'not-supported';
  }
}

export interface IntentCheck {
  readonly intent: Intent;
  readonly decision: Decision;
  /** What the policies do, in the intent file's words. */
  readonly actual: IntentDecision | 'not-supported';
  /** `agrees`: the policy does what was meant; `contradicts`: it does not; `unknown`: the oracle cannot decide statically. */
  readonly verdict: 'agrees' | 'contradicts' | 'unknown';
  /** One sentence for the user. */
  readonly text: string;
}

const VERB: Readonly<Record<IntentDecision, string>> = { allow: 'allows', deny: 'denies', reject: 'rejects' };
const MUST: Readonly<Record<IntentDecision, string>> = { allow: 'must be allowed', deny: 'must be denied', reject: 'must be rejected' };

/** Compares every intent with the oracle's decision under the resolved policies. */
export function checkIntents(mesh: ResolvedMesh, intents: readonly Intent[]): IntentCheck[] {
  const oracle = new InboundOracle(mesh);
  return intents.map((intent) => {
    let decision: Decision;
    try {
      decision = oracle.decide({ source: parseRequestSource(intent.from, mesh.mesh.trustDomain, 'from'), to: intent.to, method: intent.method, path: intent.path, ...(intent.port === undefined ? {} : { port: intent.port }) });
    } catch (error) {
      // An unknown workload or port is the intent file's mistake: say where.
      if (error instanceof MeshproofError) throw new MeshproofError(error.code, error.message, { location: intent.location, ...(error.hint === undefined ? {} : { hint: error.hint }) });
      throw error;
    }
    const actual = intentDecisionOf(decision.outcome);
    const request = `${intent.method} ${intent.path} from ${intent.from} to ${intent.to}`;
    if (actual === 'not-supported') return { intent, decision, actual, verdict: 'unknown', text: `cannot check ${request} statically: ${decision.reason}` };
    if (actual === intent.expect) return { intent, decision, actual, verdict: 'agrees', text: `${request}: the policy ${VERB[actual]} it, as intended` };
    const rule = decision.rule === undefined ? '' : ` (rule ${decision.rule.id})`;
    return { intent, decision, actual, verdict: 'contradicts', text: `your policy ${VERB[actual]} ${request} that you said ${MUST[intent.expect]}${rule}: ${decision.reason}` };
  });
}
