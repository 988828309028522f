/**
 * The one istiod translation (dataplane/istiod) against the oracle, on identities full of regular-
 * expression metacharacters. istiod ≥ 1.29.3 quotes every policy value it places into a
 * `safe_regex` (namespaces, service accounts, principals, trust domains); an unquoted `my.sa`
 * would also admit the different, valid account `my-sa`. For generated values and peers, the
 * rendered principal matchers — evaluated here with RE2 itself (re2-wasm; Envoy's `safe_regex` is
 * RE2, matched against the whole value) — must accept exactly the peers the oracle accepts. The
 * reference sidecar's compiled matchers (JavaScript RegExp) are held to RE2 on the same inputs.
 *
 * This folder is the one place that reads both: harness/oracle and harness/dataplane never
 * import each other (independence tests), so their agreement is checked from outside.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { translateAuthorization } from '../dataplane/istiod/authz-translator.ts';
import type { Principal, StringMatcher } from '../dataplane/istiod/rbac.ts';
import { compilePrincipal } from '../dataplane/reference/sidecar/rbac-engine.ts';
import type { AuthorizationPolicy, AuthorizationSource } from '../model/resources.ts';
import { YES } from '../oracle/authz-context.ts';
import { compileRule } from '../oracle/compile-rule.ts';

interface Re2 {
  test(input: string): boolean;
  /** The embind object holding the compiled RE2 in the wasm heap (16 MiB, never garbage-collected). */
  readonly wrapper: { delete(): void };
}
const RE2 = (createRequire(import.meta.url)('re2-wasm') as { RE2: new (pattern: string, flags: string) => Re2 }).RE2;

/** Envoy's `safe_regex`: RE2, the whole value. Each compiled program is freed at once: the wasm heap does not grow. */
function re2FullMatch(regex: string, value: string): boolean {
  const re = new RE2(`^(?:${regex})$`, 'u');
  try {
    return re.test(value);
  } finally {
    re.wrapper.delete();
  }
}

function stringMatches(m: StringMatcher, value: string): boolean {
  if ('safeRegex' in m) return re2FullMatch(m.safeRegex.regex, value);
  if ('exact' in m) return value === m.exact;
  if ('prefix' in m) return value.startsWith(m.prefix);
  if ('suffix' in m) return value.endsWith(m.suffix);
  return value.includes(m.contains);
}

/** Envoy's principal matchers on a peer whose only SAN is `uri` (what the rendered config says, evaluated with RE2). */
function principalMatches(p: Principal, uri: string | undefined): boolean {
  if ('any' in p) return true;
  if ('andIds' in p) return p.andIds.ids.every((x) => principalMatches(x, uri));
  if ('orIds' in p) return p.orIds.ids.some((x) => principalMatches(x, uri));
  if ('notId' in p) return !principalMatches(p.notId, uri);
  if ('authenticated' in p) return uri !== undefined && (p.authenticated.principalName === undefined || stringMatches(p.authenticated.principalName, uri));
  throw new Error(`the escaping property renders only identity matchers, found ${JSON.stringify(p)}`);
}

function policyWith(source: AuthorizationSource): AuthorizationPolicy {
  return { kind: 'AuthorizationPolicy', apiVersion: 'security.istio.io/v1', name: 'p', namespace: 'bar', labels: {}, annotations: {}, origin: { location: { file: 'generated' }, order: 0 }, spec: { rules: [{ from: [{ source }] }] } };
}

const TRUST_DOMAINS = ['cluster.local'];

/** What the rendered ALLOW filter says about a peer: some policy's principals match (its permissions are `any`). */
function renderedAllows(source: AuthorizationSource, uri: string | undefined): boolean {
  const { filters } = translateAuthorization([policyWith(source)], { protocol: 'http', trustDomains: TRUST_DOMAINS, rootNamespace: 'istio-system' });
  const rules = filters[0]?.rules;
  if (rules === undefined) throw new Error('no ALLOW filter rendered');
  return Object.values(rules.policies).some((policy) => policy.principals.some((p) => principalMatches(p, uri)));
}

/** What the reference sidecar's compiled matchers say (JavaScript RegExp for safe_regex). */
function referenceAllows(source: AuthorizationSource, uri: string | undefined): boolean {
  const { filters } = translateAuthorization([policyWith(source)], { protocol: 'http', trustDomains: TRUST_DOMAINS, rootNamespace: 'istio-system' });
  const request = { connection: { ...(uri === undefined ? {} : { peer: { uriSans: [uri], dnsSans: [], subject: '' } }), sourceIp: '10.0.0.1', destinationIp: '10.0.0.2', destinationPort: 8080, sni: '' } };
  return Object.values(filters[0]?.rules?.policies ?? {}).some((policy) => policy.principals.some((p) => compilePrincipal(p)(request)));
}

function oracleAllows(source: AuthorizationSource, uri: string | undefined): boolean {
  const rule = compileRule({ from: [{ source }] }, { protocol: 'http', action: 'ALLOW', policyNamespace: 'bar', trustDomains: TRUST_DOMAINS });
  return rule.match({ protocol: 'http', peer: uri, destinationPort: 8080 }) === YES;
}

// ---------------------------------------------------------------- generators

const META = ['.', '[', ']', '*', '+', '?', '(', ')', '|', '{', '}', '^', '$', '\\'] as const;
const PLAIN = ['a', 'b', '-', '_', '0'] as const;
/** A name of plain and meta characters, no `/` and no `*` (a service account, a namespace). */
const name = fc.array(fc.constantFrom(...PLAIN, ...META.filter((c) => c !== '*')), { minLength: 1, maxLength: 6 }).map((cs) => cs.join(''));
/** Like name, `*` allowed anywhere and several times (namespaces and principals allow that). */
const starry = fc.array(fc.constantFrom(...PLAIN, ...META), { minLength: 1, maxLength: 8 }).map((cs) => cs.join(''));
/** A trust domain as validation allows it: no `/`, at most one `*`, at an end, or `*` alone. */
const trustDomainValue = fc.oneof(
  fc.constant('*'),
  name,
  name.map((n) => `${n}*`),
  name.map((n) => `*${n}`),
);

/** Near misses: one character of `text` replaced by a plain or a meta character, or one dropped. */
function mutations(text: string): fc.Arbitrary<string> {
  if (text.length === 0) return fc.constant(text);
  return fc.tuple(fc.nat({ max: text.length - 1 }), fc.constantFrom('', 'x', '-', '.', '/', ...META)).map(([i, c]) => text.slice(0, i) + c + text.slice(i + 1));
}

/** Peers made of the value's own characters (so regex and literal readings part), plus unrelated ones. */
function peersFor(parts: readonly string[]): fc.Arbitrary<string | undefined> {
  const part = parts.length === 0 ? name : fc.oneof(fc.constantFrom(...parts), ...parts.map(mutations), name);
  const td = fc.oneof(fc.constant('cluster.local'), part, name);
  const extra = fc.constantFrom('', '/x', '/ns/a', '/sa/b');
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(td, part, part, extra).map(([t, ns, sa, tail]) => `spiffe://${t}/ns/${ns}/sa/${sa}${tail}`) },
    { weight: 1, arbitrary: fc.tuple(part, part).map(([a, b]) => `spiffe://${a}/${b}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** Literal pieces of values: what is left between the `*`s. */
const pieces = (values: readonly string[]): string[] => values.flatMap((v) => v.split(/[*/]/)).filter((p) => p !== '');

const PROPERTY = { numRuns: 400 } as const;

function agree(source: AuthorizationSource, uri: string | undefined): boolean {
  const oracle = oracleAllows(source, uri);
  const rendered = renderedAllows(source, uri);
  const reference = referenceAllows(source, uri);
  if (oracle !== rendered || rendered !== reference) throw new Error(`${JSON.stringify(source)} on ${JSON.stringify(uri)}: oracle ${oracle}, rendered (RE2) ${rendered}, reference sidecar ${reference}`);
  return true;
}

function fieldProperty(field: keyof AuthorizationSource, values: fc.Arbitrary<string[]>): void {
  fc.assert(
    fc.property(
      values.chain((vs) => fc.tuple(fc.constant(vs), fc.array(peersFor(pieces(vs)), { minLength: 1, maxLength: 6 }))),
      ([vs, peers]) => peers.every((peer) => agree({ [field]: vs }, peer)),
    ),
    PROPERTY,
  );
}

describe('escaping: the rendered matchers accept exactly the identities the oracle accepts', function () {
  this.timeout(120_000);

  it('serviceAccounts (ns/sa and sa) and notServiceAccounts', function () {
    const sa = fc.oneof(fc.tuple(name, name).map(([ns, s]) => `${ns}/${s}`), name);
    fieldProperty('serviceAccounts', fc.array(sa, { minLength: 1, maxLength: 3 }));
    fieldProperty('notServiceAccounts', fc.array(sa, { minLength: 1, maxLength: 2 }));
  });

  it('namespaces and notNamespaces, with any number of `*`', function () {
    fieldProperty('namespaces', fc.array(starry, { minLength: 1, maxLength: 3 }));
    fieldProperty('notNamespaces', fc.array(starry, { minLength: 1, maxLength: 2 }));
  });

  it('principals and notPrincipals: exact, `*`, prefix, suffix and several `*`', function () {
    const principal = fc.oneof(
      fc.tuple(fc.constantFrom('cluster.local', '*'), name, name).map(([td, ns, sa]) => `${td}/ns/${ns}/sa/${sa}`),
      starry,
      starry.map((s) => `*${s}`),
      starry.map((s) => `${s}*`),
      fc.tuple(name, name).map(([ns, sa]) => `*/ns/${ns}/sa/${sa}*`),
      fc.constant('*'),
    );
    fieldProperty('principals', fc.array(principal, { minLength: 1, maxLength: 3 }));
    fieldProperty('notPrincipals', fc.array(principal, { minLength: 1, maxLength: 2 }));
  });

  it('trustDomains and notTrustDomains, `*` included', function () {
    fieldProperty('trustDomains', fc.array(trustDomainValue, { minLength: 1, maxLength: 3 }));
    fieldProperty('notTrustDomains', fc.array(trustDomainValue, { minLength: 1, maxLength: 2 }));
  });

  it("the issue's example: serviceAccounts [bar/my.sa] admits my.sa and not my-sa, in the render and in the oracle", function () {
    const source = { serviceAccounts: ['bar/my.sa'] };
    for (const [peer, allowed] of [
      ['spiffe://cluster.local/ns/bar/sa/my.sa', true],
      ['spiffe://cluster.local/ns/bar/sa/my-sa', false],
      ['spiffe://cluster.local/ns/bar/sa/myxsa', false],
    ] as const) {
      expect(oracleAllows(source, peer), `oracle on ${peer}`).to.equal(allowed);
      expect(renderedAllows(source, peer), `render on ${peer}`).to.equal(allowed);
    }
  });

  it('trustDomains ["*"] admits every SPIFFE peer and nothing without a certificate; "*.example" stays inside the trust domain', function () {
    expect(renderedAllows({ trustDomains: ['*'] }, 'spiffe://any.td/ns/a/sa/b')).to.equal(true);
    expect(renderedAllows({ trustDomains: ['*'] }, undefined)).to.equal(false);
    expect(oracleAllows({ trustDomains: ['*'] }, 'spiffe://any.td/ns/a/sa/b')).to.equal(true);
    // `.*` in place of `[^/]*` would let `a/ns/x.example` pass as a trust domain ending in `.example`.
    for (const f of [renderedAllows, oracleAllows]) {
      expect(f({ trustDomains: ['*.example'] }, 'spiffe://a/ns/x.example/sa/y'), f.name).to.equal(false);
      expect(f({ trustDomains: ['*.example'] }, 'spiffe://td.example/ns/x/sa/y'), f.name).to.equal(true);
      expect(f({ trustDomains: ['*.example'] }, 'spiffe://tdxexample/ns/x/sa/y'), f.name).to.equal(false);
    }
  });

  it('the property can fail: an unquoted rendering of the same values is caught', function () {
    // The regex istiod < 1.29.3 wrote for serviceAccounts, evaluated by RE2.
    const unquoted = (ns: string, sa: string, uri: string): boolean => re2FullMatch(`spiffe://.+/ns/${ns}/(.+/|)sa/${sa}(/.+)?`, uri);
    expect(unquoted('bar', 'my.sa', 'spiffe://cluster.local/ns/bar/sa/my-sa')).to.equal(true);
    expect(oracleAllows({ serviceAccounts: ['bar/my.sa'] }, 'spiffe://cluster.local/ns/bar/sa/my-sa')).to.equal(false);
  });
});
