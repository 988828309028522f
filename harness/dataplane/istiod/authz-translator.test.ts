/**
 * The reference data plane's reading of AuthorizationPolicy: translate (istiod's half) and
 * evaluate (Envoy's half) together, against tables taken from istio-semantics.md §2 and Istio's
 * builder testdata. Independent of harness/oracle and its tests.
 */
import { expect } from 'chai';
import { policiesFromYaml } from '../../model/load-policies.ts';
import type { AuthorizationPolicy } from '../../model/resources.ts';
import { translateAuthorization, expandTrustDomains, type TranslateOptions } from './authz-translator.ts';
import { RbacEngine, type RbacDecision, type RbacRequest } from '../reference/sidecar/rbac-engine.ts';

interface Req {
  /** Peer principal without spiffe:// (mTLS); absent = plaintext. */
  readonly peer?: string;
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  readonly headers?: Record<string, string>;
  readonly sourceIp?: string;
  readonly port?: number;
  readonly sni?: string;
}

function request(r: Req): RbacRequest {
  const headers: Record<string, string> = { ':method': r.method ?? 'GET', ':authority': r.host ?? 'payment-service', ':path': r.path ?? '/' };
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
  return {
    connection: {
      ...(r.peer === undefined ? {} : { peer: { uriSans: [`spiffe://${r.peer}`], dnsSans: [], subject: '' } }),
      sourceIp: r.sourceIp ?? '10.0.0.7',
      destinationIp: '10.0.0.9',
      destinationPort: r.port ?? 8080,
      sni: r.sni ?? '',
    },
    header: (name) => headers[name],
    urlPath: (r.path ?? '/').split('?')[0]!,
  };
}

const tcpRequest = (r: Req): RbacRequest => {
  const { header: _h, urlPath: _u, ...rest } = request(r);
  return rest;
};

const defaults: TranslateOptions = { protocol: 'http', trustDomains: ['cluster.local'], rootNamespace: 'istio-system' };

function engineFor(yaml: string, options: Partial<TranslateOptions> = {}): RbacEngine {
  const set = policiesFromYaml(yaml);
  return new RbacEngine(translateAuthorization(set.authorizationPolicies, { ...defaults, ...options }).filters);
}

function decide(yaml: string, r: Req, options: Partial<TranslateOptions> = {}): RbacDecision {
  const engine = engineFor(yaml, options);
  return engine.evaluate(options.protocol === 'tcp' ? tcpRequest(r) : request(r));
}

const policy = (spec: string, meta = 'name: p\n  namespace: prod'): string => `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  ${meta}\nspec:\n${spec}\n`;

const ORDER = 'cluster.local/ns/prod-namespace/sa/order-service-sa';
const PRODUCT = 'cluster.local/ns/prod-namespace/sa/product-service-sa';

describe('reference authorization: translate (istiod) + evaluate (Envoy RBAC)', function () {
  describe('the seed policy: payment-service allows only POST /pay/* from order-service-sa', function () {
    const seed = `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: restrict-payment-access, namespace: prod-namespace}
spec:
  selector: {matchLabels: {app: payment-service}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["${ORDER}"]}}]
    to: [{operation: {methods: ["POST"], paths: ["/pay/*"]}}]
`;
    const rows: [string, Req, boolean][] = [
      ['order-service POST /pay/1', { peer: ORDER, method: 'POST', path: '/pay/1' }, true],
      ['order-service POST /pay/ (prefix includes the bare prefix)', { peer: ORDER, method: 'POST', path: '/pay/' }, true],
      ['order-service POST /pay/1?x=2 (query ignored)', { peer: ORDER, method: 'POST', path: '/pay/1?x=2' }, true],
      ['order-service GET /pay/1', { peer: ORDER, method: 'GET', path: '/pay/1' }, false],
      ['order-service post /pay/1 (methods are case-sensitive)', { peer: ORDER, method: 'post', path: '/pay/1' }, false],
      ['order-service POST /pay (no slash)', { peer: ORDER, method: 'POST', path: '/pay' }, false],
      ['order-service POST /PAY/1 (paths are case-sensitive)', { peer: ORDER, method: 'POST', path: '/PAY/1' }, false],
      ['product-service POST /pay/1', { peer: PRODUCT, method: 'POST', path: '/pay/1' }, false],
      ['plaintext POST /pay/1', { method: 'POST', path: '/pay/1' }, false],
    ];
    for (const [name, r, allowed] of rows) {
      it(`${name} → ${allowed ? 'allowed' : '403'}`, function () {
        const d = decide(seed, r);
        expect(d.allowed).to.equal(allowed);
        if (!allowed) expect(d.responseCodeDetails).to.equal('rbac_access_denied_matched_policy[none]');
      });
    }
  });

  describe('special shapes', function () {
    it('no policy: everything is allowed', function () {
      expect(new RbacEngine([]).evaluate(request({})).allowed).to.equal(true);
    });
    it('ALLOW with no rules (spec: {}) denies everything', function () {
      const d = decide(policy('  {}'), { peer: ORDER });
      expect(d).to.deep.include({ allowed: false, responseCodeDetails: 'rbac_access_denied_matched_policy[none]' });
    });
    it('ALLOW rules: [{}] allows everything, plaintext included', function () {
      expect(decide(policy('  rules: [{}]'), {}).allowed).to.equal(true);
    });
    it('DENY rules: [{}] denies everything, even what another policy allows', function () {
      const yaml = `${policy('  action: DENY\n  rules: [{}]', 'name: deny-all\n  namespace: prod')}---\n${policy('  rules: [{}]', 'name: allow-all\n  namespace: prod')}`;
      expect(decide(yaml, { peer: ORDER })).to.deep.include({ allowed: false, responseCodeDetails: 'rbac_access_denied_matched_policy[ns[prod]-policy[deny-all]-rule[0]]' });
    });
    it('DENY is evaluated before ALLOW and names the DENY rule that matched', function () {
      const yaml = `${policy(`  action: DENY\n  rules: [{to: [{operation: {paths: ["/admin*"]}}]}, {from: [{source: {principals: ["${ORDER}"]}}]}]`, 'name: deny-it\n  namespace: prod')}---\n${policy(`  rules: [{from: [{source: {principals: ["${ORDER}"]}}]}]`, 'name: allow-order\n  namespace: prod')}`;
      expect(decide(yaml, { peer: ORDER, path: '/x' }).responseCodeDetails).to.equal('rbac_access_denied_matched_policy[ns[prod]-policy[deny-it]-rule[1]]');
      expect(decide(yaml, { peer: PRODUCT, path: '/x' }).responseCodeDetails).to.equal('rbac_access_denied_matched_policy[none]');
    });
  });

  describe('value matching', function () {
    const allowPaths = (paths: string, not = ''): string => policy(`  rules: [{to: [{operation: {paths: ${paths}${not === '' ? '' : `, notPaths: ${not}`}}}]}]`);
    const table: [string, string, string, boolean][] = [
      ['prefix /public* matches /publicity', allowPaths('["/public*"]'), '/publicity', true],
      ['suffix */info matches /a/b/info', allowPaths('["*/info"]'), '/a/b/info', true],
      ['exact /exact does not match /exact/', allowPaths('["/exact"]'), '/exact/', false],
      ['* matches any non-empty path', allowPaths('["*"]'), '/', true],
      ['paths /deny* and notPaths /deny/allow: /deny/x', allowPaths('["/deny*"]', '["/deny/allow"]'), '/deny/x', true],
      ['paths /deny* and notPaths /deny/allow: /deny/allow', allowPaths('["/deny*"]', '["/deny/allow"]'), '/deny/allow', false],
      ['{*} matches one segment', allowPaths('["/api/{*}/info"]'), '/api/v1/info', true],
      ['{*} does not match two segments', allowPaths('["/api/{*}/info"]'), '/api/v1/x/info', false],
      ['{*} does not match an empty segment', allowPaths('["/api/{*}/info"]'), '/api//info', false],
      ['{**} matches several segments', allowPaths('["/api/{**}"]'), '/api/v1/x/y', true],
      ['{**} matches zero segments after the slash', allowPaths('["/api/{**}"]'), '/api/', true],
      ['{**} then a literal', allowPaths('["/{**}/template"]'), '/a/b/template', true],
    ];
    for (const [name, yaml, path, allowed] of table) {
      it(`${name} → ${allowed ? 'allowed' : 'denied'}`, function () {
        expect(decide(yaml, { path }).allowed).to.equal(allowed);
      });
    }
    it('hosts ignore case, and an exact host does not match host:port', function () {
      const yaml = policy('  rules: [{to: [{operation: {hosts: ["Example.COM"]}}]}]');
      expect(decide(yaml, { host: 'example.com' }).allowed).to.equal(true);
      expect(decide(yaml, { host: 'example.com:8080' }).allowed).to.equal(false);
      expect(decide(policy('  rules: [{to: [{operation: {hosts: ["*.example.com"]}}]}]'), { host: 'API.Example.com' }).allowed).to.equal(true);
    });
    it('methods: exact and case-sensitive; * means any', function () {
      expect(decide(policy('  rules: [{to: [{operation: {methods: ["GET"]}}]}]'), { method: 'get' }).allowed).to.equal(false);
      expect(decide(policy('  rules: [{to: [{operation: {methods: ["*"]}}]}]'), { method: 'PATCH' }).allowed).to.equal(true);
    });
    it('ports and notPorts match the workload port exactly', function () {
      const yaml = policy('  rules: [{to: [{operation: {ports: ["8080"], notPorts: ["9090"]}}]}]');
      expect(decide(yaml, { port: 8080 }).allowed).to.equal(true);
      expect(decide(yaml, { port: 9090 }).allowed).to.equal(false);
      expect(decide(yaml, { port: 80 }).allowed).to.equal(false);
    });
  });

  describe('sources and mTLS', function () {
    it('principals "*" matches any peer with a certificate, never plaintext', function () {
      const yaml = policy('  rules: [{from: [{source: {principals: ["*"]}}]}]');
      expect(decide(yaml, { peer: 'evil.example/ns/x/sa/y' }).allowed).to.equal(true);
      expect(decide(yaml, {}).allowed).to.equal(false);
    });
    it('principal prefix and suffix forms', function () {
      expect(decide(policy('  rules: [{from: [{source: {principals: ["cluster.local/ns/prod-namespace/*"]}}]}]'), { peer: ORDER }).allowed).to.equal(true);
      expect(decide(policy('  rules: [{from: [{source: {principals: ["*/sa/order-service-sa"]}}]}]'), { peer: ORDER }).allowed).to.equal(true);
      expect(decide(policy('  rules: [{from: [{source: {principals: ["*/sa/order"]}}]}]'), { peer: ORDER }).allowed).to.equal(false);
    });
    it('namespaces: foo does not match foo-bar', function () {
      const yaml = policy('  rules: [{from: [{source: {namespaces: ["foo"]}}]}]');
      expect(decide(yaml, { peer: 'cluster.local/ns/foo/sa/a' }).allowed).to.equal(true);
      expect(decide(yaml, { peer: 'cluster.local/ns/foo-bar/sa/a' }).allowed).to.equal(false);
    });
    it('plaintext: ALLOW notNamespaces [foo] allows it; DENY namespaces [foo] does not deny it; DENY notPrincipals [*] does', function () {
      expect(decide(policy('  rules: [{from: [{source: {notNamespaces: ["foo"]}}]}]'), {}).allowed).to.equal(true);
      expect(decide(policy('  action: DENY\n  rules: [{from: [{source: {namespaces: ["foo"]}}]}]'), {}).allowed).to.equal(true);
      expect(decide(policy('  action: DENY\n  rules: [{from: [{source: {notPrincipals: ["*"]}}]}]'), {}).allowed).to.equal(false);
      expect(decide(policy('  action: DENY\n  rules: [{from: [{source: {notPrincipals: ["*"]}}]}]'), { peer: ORDER }).allowed).to.equal(true);
    });
    it('serviceAccounts: ns/sa or sa (policy namespace), any trust domain, no prefix tricks', function () {
      const yaml = policy('  rules: [{from: [{source: {serviceAccounts: ["prod-namespace/order-service-sa", "local-sa"]}}]}]');
      expect(decide(yaml, { peer: 'other.td/ns/prod-namespace/sa/order-service-sa' }).allowed).to.equal(true);
      expect(decide(yaml, { peer: 'cluster.local/ns/prod/sa/local-sa' }).allowed).to.equal(true);
      expect(decide(yaml, { peer: 'cluster.local/ns/prod-namespace/sa/order-service-sa-2' }).allowed).to.equal(false);
    });
    it('ipBlocks and notIpBlocks (CIDR) on the connection peer', function () {
      const yaml = policy('  rules: [{from: [{source: {ipBlocks: ["10.0.0.0/24"], notIpBlocks: ["10.0.0.66"]}}]}]');
      expect(decide(yaml, { sourceIp: '10.0.0.7' }).allowed).to.equal(true);
      expect(decide(yaml, { sourceIp: '10.0.0.66' }).allowed).to.equal(false);
      expect(decide(yaml, { sourceIp: '10.0.1.7' }).allowed).to.equal(false);
      expect(decide(yaml, { sourceIp: '::ffff:10.0.0.8' }).allowed).to.equal(true);
    });
  });

  describe('trust domains', function () {
    const opts = { trustDomains: ['new.td', 'old.td'] };
    it('a principal in an alias or in cluster.local stands for every trust domain of the bundle', function () {
      expect(expandTrustDomains(['old.td/ns/a/sa/b', 'cluster.local/ns/a/sa/c', 'other.td/ns/a/sa/d', '*/ns/a/sa/e', 'x'], opts)).to.deep.equal([
        'new.td/ns/a/sa/b',
        'old.td/ns/a/sa/b',
        'new.td/ns/a/sa/c',
        'old.td/ns/a/sa/c',
        'other.td/ns/a/sa/d',
        '*/ns/a/sa/e',
        'x',
      ]);
    });
    it('so a policy written for cluster.local admits the mesh trust domain and aliases, and not others', function () {
      const yaml = policy('  rules: [{from: [{source: {principals: ["cluster.local/ns/a/sa/b"]}}]}]');
      expect(decide(yaml, { peer: 'new.td/ns/a/sa/b' }, opts).allowed).to.equal(true);
      expect(decide(yaml, { peer: 'old.td/ns/a/sa/b' }, opts).allowed).to.equal(true);
      expect(decide(yaml, { peer: 'cluster.local/ns/a/sa/b' }, opts).allowed).to.equal(false);
    });
    it('trustDomains match the SPIFFE prefix', function () {
      const yaml = policy('  rules: [{from: [{source: {trustDomains: ["old.td"]}}]}]');
      expect(decide(yaml, { peer: 'new.td/ns/a/sa/b' }, opts).allowed).to.equal(true);
      expect(decide(yaml, { peer: 'new.tdx/ns/a/sa/b' }, opts).allowed).to.equal(false);
    });
  });

  describe('when conditions', function () {
    it('request.headers: case-insensitive name, values and notValues', function () {
      const yaml = policy('  rules: [{when: [{key: "request.headers[X-Token]", values: ["abc*"], notValues: ["abc-revoked"]}]}]');
      expect(decide(yaml, { headers: { 'x-token': 'abc-1' } }).allowed).to.equal(true);
      expect(decide(yaml, { headers: { 'x-token': 'abc-revoked' } }).allowed).to.equal(false);
      expect(decide(yaml, {}).allowed).to.equal(false);
    });
    it('source.principal, source.namespace and source.ip', function () {
      expect(decide(policy(`  rules: [{when: [{key: source.principal, values: ["${ORDER}"]}]}]`), { peer: ORDER }).allowed).to.equal(true);
      expect(decide(policy('  rules: [{when: [{key: source.namespace, notValues: ["prod-namespace"]}]}]'), { peer: ORDER }).allowed).to.equal(false);
      expect(decide(policy('  rules: [{when: [{key: source.ip, values: ["10.0.0.0/8"]}]}]'), { sourceIp: '10.9.9.9' }).allowed).to.equal(true);
    });
    it('destination.port and connection.sni', function () {
      expect(decide(policy('  rules: [{when: [{key: destination.port, values: ["8080"]}]}]'), { port: 8080 }).allowed).to.equal(true);
      expect(decide(policy('  rules: [{when: [{key: connection.sni, values: ["*.svc.cluster.local"]}]}]'), { sni: 'outbound_.80_._.payment.prod.svc.cluster.local' }).allowed).to.equal(true);
      expect(decide(policy('  rules: [{when: [{key: connection.sni, values: ["*.svc.cluster.local"]}]}]'), {}).allowed).to.equal(false);
    });
    it('JWT-based conditions never match a request that carries no verified JWT', function () {
      expect(decide(policy('  rules: [{when: [{key: request.auth.principal, values: ["*"]}]}]'), { peer: ORDER }).allowed).to.equal(false);
    });
  });

  describe('TCP chains: HTTP-only fields', function () {
    const tcp = { protocol: 'tcp' as const };
    it('ALLOW: a rule with an HTTP-only field is dropped; with every rule dropped, all TCP is denied', function () {
      const yaml = policy('  rules: [{to: [{operation: {methods: ["GET"]}}]}]');
      expect(decide(yaml, { peer: ORDER }, tcp)).to.deep.include({ allowed: false, responseCodeDetails: 'rbac_access_denied_matched_policy[none]' });
      expect(decide(yaml, { peer: ORDER }).allowed).to.equal(true);
    });
    it('ALLOW: the other rules stay', function () {
      const yaml = policy('  rules: [{to: [{operation: {methods: ["GET"]}}]}, {to: [{operation: {ports: ["8080"]}}]}]');
      expect(decide(yaml, { port: 8080 }, tcp)).to.deep.include({ allowed: true });
      expect(decide(yaml, { port: 9000 }, tcp).allowed).to.equal(false);
    });
    it('DENY: only the HTTP-only field goes, so DENY methods [GET] denies all TCP', function () {
      const yaml = policy('  action: DENY\n  rules: [{to: [{operation: {methods: ["GET"]}}]}]');
      expect(decide(yaml, {}, tcp)).to.deep.include({ allowed: false, responseCodeDetails: 'rbac_access_denied_matched_policy[ns[prod]-policy[p]-rule[0]]' });
      expect(decide(yaml, { method: 'POST' }).allowed).to.equal(true);
    });
    it('DENY: the rule keeps its TCP fields', function () {
      const yaml = policy('  action: DENY\n  rules: [{to: [{operation: {methods: ["GET"], ports: ["9000"]}}]}]');
      expect(decide(yaml, { port: 8080 }, tcp).allowed).to.equal(true);
      expect(decide(yaml, { port: 9000 }, tcp).allowed).to.equal(false);
    });
    it('the translator says what it dropped', function () {
      const set = policiesFromYaml(policy('  rules: [{to: [{operation: {paths: ["/x"]}}]}]'));
      const notes = translateAuthorization(set.authorizationPolicies, { ...defaults, protocol: 'tcp' }).notes;
      expect(notes).to.deep.equal([{ policy: 'prod/p', message: "rule 0 skipped on the TCP chain: 'paths' is HTTP only" }]);
    });
  });

  describe('AUDIT, CUSTOM, dry-run, root namespace', function () {
    it('AUDIT never decides, and records the rule it matched', function () {
      const d = decide(policy('  action: AUDIT\n  rules: [{to: [{operation: {paths: ["/audit"]}}]}]'), { path: '/audit' });
      expect(d.allowed).to.equal(true);
      expect(d.filters).to.deep.equal([{ source: 'audit', action: 'LOG', allowed: true, matchedPolicy: 'ns[prod]-policy[p]-rule[0]' }]);
    });
    it('CUSTOM fails closed: what its rules match is denied, under the "bad custom" name', function () {
      const yaml = policy('  action: CUSTOM\n  provider: {name: ext}\n  rules: [{to: [{operation: {paths: ["/admin"]}}]}]');
      expect(decide(yaml, { path: '/admin' }).responseCodeDetails).to.equal('rbac_access_denied_matched_policy[istio-ext-authz-ext-ns[prod]-policy[p]-rule[0]-deny-due-to-bad-CUSTOM-action]');
      expect(decide(yaml, { path: '/public' }).allowed).to.equal(true);
    });
    it('dry-run policies are evaluated for their stats and never enforced', function () {
      const yaml = policy('  rules: [{to: [{operation: {paths: ["/exact"]}}]}]', 'name: p\n  namespace: prod\n  annotations: {istio.io/dry-run: "true"}');
      const d = decide(yaml, { path: '/other' });
      expect(d.allowed).to.equal(true);
      expect(d.filters[0]?.shadow).to.deep.equal({ allowed: false, statPrefix: 'istio_dry_run_allow_' });
    });
    it('root-namespace DENY policies get their own filter, before the namespace DENY filter', function () {
      const yaml = `${policy('  action: DENY\n  rules: [{to: [{operation: {paths: ["/a"]}}]}]', 'name: mesh-deny\n  namespace: istio-system')}---\n${policy('  action: DENY\n  rules: [{to: [{operation: {paths: ["/a"]}}]}]', 'name: ns-deny\n  namespace: prod')}`;
      const filters = translateAuthorization(policiesFromYaml(yaml).authorizationPolicies, defaults).filters;
      expect(filters.map((f) => f.source)).to.deep.equal(['deny-root', 'deny']);
      expect(decide(yaml, { path: '/a' }).responseCodeDetails).to.equal('rbac_access_denied_matched_policy[ns[istio-system]-policy[mesh-deny]-rule[0]]');
    });
    it('an unknown condition key drops the whole rule, even for DENY', function () {
      const [p] = policiesFromYaml(policy('  action: DENY\n  rules: [{to: [{operation: {paths: ["/a"]}}]}]')).authorizationPolicies;
      const bad: AuthorizationPolicy = { ...p!, spec: { ...p!.spec, rules: [{ when: [{ key: 'destination.name', values: ['x'] }] }] } };
      const out = translateAuthorization([bad], defaults);
      expect(out.filters[0]?.rules?.policies).to.deep.equal({});
      expect(out.notes[0]?.message).to.match(/unknown attribute destination\.name/);
    });
  });

  describe("the shape istiod emits (Istio's builder testdata)", function () {
    it('deny-and-allow: DENY filter first, principals as and_ids of or_ids of authenticated exact', function () {
      const yaml = `${policy('  action: DENY\n  rules: [{from: [{source: {principals: ["deny"]}}]}]', 'name: httpbin-deny\n  namespace: foo')}---\n${policy('  action: ALLOW\n  rules: [{from: [{source: {principals: ["allow"]}}]}]', 'name: httpbin-allow\n  namespace: foo')}`;
      const filters = translateAuthorization(policiesFromYaml(yaml).authorizationPolicies, defaults).filters;
      expect(filters[0]).to.deep.equal({
        source: 'deny',
        rules: {
          action: 'DENY',
          policies: {
            'ns[foo]-policy[httpbin-deny]-rule[0]': {
              permissions: [{ andRules: { rules: [{ any: true }] } }],
              principals: [{ andIds: { ids: [{ orIds: { ids: [{ authenticated: { principalName: { exact: 'spiffe://deny' } } }] } }] } }],
            },
          },
        },
        shadowRulesStatPrefix: 'istio_dry_run_allow_',
      });
      expect(filters[1]?.rules?.action).to.equal('ALLOW');
    });
    it('allow-path: exact, prefix, suffix, * and templates, with notPaths as not_rule(or_rules)', function () {
      const yaml = policy('  rules: [{to: [{operation: {paths: ["/exact", "/prefix/*", "*/suffix", "*", "/path/template/{*}", "/{**}/path/template"], notPaths: ["/not-exact"]}}]}]', 'name: httpbin-1\n  namespace: foo');
      const policies = translateAuthorization(policiesFromYaml(yaml).authorizationPolicies, defaults).filters[0]?.rules?.policies;
      expect(policies?.['ns[foo]-policy[httpbin-1]-rule[0]']?.permissions).to.deep.equal([
        {
          andRules: {
            rules: [
              {
                orRules: {
                  rules: [
                    { urlPath: { path: { exact: '/exact' } } },
                    { urlPath: { path: { prefix: '/prefix/' } } },
                    { urlPath: { path: { suffix: '/suffix' } } },
                    { urlPath: { path: { safeRegex: { regex: '.+' } } } },
                    { uriTemplate: { pathTemplate: '/path/template/*' } },
                    { uriTemplate: { pathTemplate: '/**/path/template' } },
                  ],
                },
              },
              { notRule: { orRules: { rules: [{ urlPath: { path: { exact: '/not-exact' } } }] } } },
            ],
          },
        },
      ]);
    });
    it('allow-full-rule: serviceAccounts and suffix principals become regexes', function () {
      const yaml = policy('  rules: [{from: [{source: {serviceAccounts: ["my-ns/my-sa", "sa-only"]}}]}, {from: [{source: {principals: ["*-suffix-principal"]}}]}]', 'name: httpbin-1\n  namespace: foo');
      const policies = translateAuthorization(policiesFromYaml(yaml).authorizationPolicies, defaults).filters[0]?.rules?.policies ?? {};
      expect(policies['ns[foo]-policy[httpbin-1]-rule[0]']?.principals).to.deep.equal([
        {
          andIds: {
            ids: [
              {
                orIds: {
                  ids: [
                    { authenticated: { principalName: { safeRegex: { regex: 'spiffe://.+/ns/my-ns/(.+/|)sa/my-sa(/.+)?' } } } },
                    { authenticated: { principalName: { safeRegex: { regex: 'spiffe://.+/ns/foo/(.+/|)sa/sa-only(/.+)?' } } } },
                  ],
                },
              },
            ],
          },
        },
      ]);
      expect(policies['ns[foo]-policy[httpbin-1]-rule[1]']?.principals).to.deep.equal([
        { andIds: { ids: [{ orIds: { ids: [{ authenticated: { principalName: { safeRegex: { regex: 'spiffe://.*-suffix-principal' } } } }] } }] } },
      ]);
    });
  });
});
