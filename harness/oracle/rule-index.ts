/**
 * An index over one action's compiled rules by the peer identity a rule can match, so that a
 * request is matched only against the rules that could match it. It changes no decision: a rule
 * leaves the candidates only when its `from` part is certainly NO for that peer, and a NO in any
 * part makes the whole rule NO (compile-rule.ts allOf), whatever its other parts say.
 *
 * A rule is keyed when every `from` entry has positive `principals` that are all exact values
 * (no `*` at either end): the rule can then match only a peer whose URI is one of them, after
 * trust-domain aliasing (expandPrincipals), `spiffe://` prepended as the matcher does. A
 * plaintext request (no peer) matches no keyed rule. Every other rule is a candidate for every
 * request. An ALLOW rule dropped on TCP matches nothing and is never a candidate.
 *
 * Why: a policy set of thousands of principal-keyed rules (one per calling service account, the
 * common shape) cost one predicate call per rule per request; `meshproof diff` asks it for every
 * boundary probe of both sides.
 */
import type { AuthorizationRule } from '../model/resources.ts';
import { expandPrincipals } from './trust-domain.ts';

const SPIFFE = 'spiffe://';

export interface RuleIndex {
  /** Peer URI → positions (ascending) of the keyed rules that peer can match. */
  readonly byPeer: ReadonlyMap<string, readonly number[]>;
  /** Positions (ascending) of the rules that are candidates for any request. */
  readonly unkeyed: readonly number[];
  readonly size: number;
}

const isExact = (value: string): boolean => value.length > 0 && !value.startsWith('*') && !value.endsWith('*');

/**
 * The peer URIs a rule can match, or undefined when the rule is not keyed by its peer. An empty
 * set: the rule can match no request at all.
 */
export function peerKeys(rule: AuthorizationRule, trustDomains: readonly string[]): ReadonlySet<string> | undefined {
  const from = rule.from;
  if (from === undefined || from.length === 0) return undefined;
  const keys = new Set<string>();
  for (const entry of from) {
    const principals = entry.source?.principals;
    if (principals === undefined || principals.length === 0 || !principals.every(isExact)) return undefined;
    const expanded = expandPrincipals(principals, trustDomains);
    if (!expanded.every(isExact)) return undefined;
    for (const p of expanded) keys.add(`${SPIFFE}${p}`);
  }
  return keys;
}

/** `keys[i]`: what peerKeys says of the rule at position i (undefined: a candidate for every request). */
export function buildRuleIndex(keys: readonly (ReadonlySet<string> | undefined)[]): RuleIndex {
  const byPeer = new Map<string, number[]>();
  const unkeyed: number[] = [];
  keys.forEach((set, position) => {
    if (set === undefined) {
      unkeyed.push(position);
      return;
    }
    for (const key of set) {
      const list = byPeer.get(key);
      if (list === undefined) byPeer.set(key, [position]);
      else list.push(position);
    }
  });
  return { byPeer, unkeyed, size: keys.length };
}

const EMPTY: readonly number[] = Object.freeze([]);

/** The positions to try for a request from `peer`, ascending (the evaluation order is kept). */
export function candidates(index: RuleIndex, peer: string | undefined): readonly number[] {
  const keyed = peer === undefined ? EMPTY : (index.byPeer.get(peer) ?? EMPTY);
  if (keyed.length === 0) return index.unkeyed;
  if (index.unkeyed.length === 0) return keyed;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  const a = keyed;
  const b = index.unkeyed;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && x < y)) {
      out.push(x as number);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}
