import { expect } from 'chai';
import type { HttpRoute } from '../model/resources.ts';
import { selectRoute } from './route-match.ts';

const routes: HttpRoute[] = [
  { name: 'admin', match: [{ uri: { prefix: '/admin' }, headers: { 'X-Role': { exact: 'ops' } } }], timeout: '1s' },
  { name: 'reports', match: [{ uri: { regex: '/reports/[0-9]+' } }, { method: { exact: 'DELETE' } }], timeout: '2s' },
  { name: 'default', timeout: '3s' },
];

describe('VirtualService route selection', function () {
  const rows: [string, Parameters<typeof selectRoute>[1], string | undefined][] = [
    ['prefix and header both hold', { path: '/admin/x', headers: { 'x-role': 'ops' } }, 'admin'],
    ['prefix without the header falls through', { path: '/admin/x' }, 'default'],
    ['regex is anchored', { path: '/reports/12' }, 'reports'],
    ['regex does not match a longer path', { path: '/reports/12/x' }, 'default'],
    ['match entries OR', { path: '/x', method: 'DELETE' }, 'reports'],
  ];
  for (const [name, req, want] of rows) {
    it(`${name} → ${want}`, function () {
      expect(selectRoute(routes, req)?.name).to.equal(want);
    });
  }
  it('withoutHeaders, queryParams, scheme, source and per-match gateways, as istiod translates them', function () {
    const r: HttpRoute[] = [
      { name: 'no-canary', match: [{ withoutHeaders: { 'x-canary': { exact: 'yes' } } }] },
      { name: 'debug', match: [{ queryParams: { debug: { exact: '1' } } }] },
      { name: 'present', match: [{ headers: { 'x-trace': { regex: '*' } } }] },
      { name: 'from-shop', match: [{ sourceNamespace: 'shop', sourceLabels: { app: 'cart' } }] },
      { name: 'gateway-only', match: [{ gateways: ['istio-system/gw'] }] },
      { name: 'default' },
    ];
    const pick = (req: Parameters<typeof selectRoute>[1]): string | undefined => selectRoute(r, req)?.name;
    expect(pick({ path: '/' }), 'a missing header counts as empty, so withoutHeaders holds').to.equal('no-canary');
    const canary = { 'x-canary': 'yes' };
    expect(pick({ path: '/', headers: canary })).to.equal('default');
    expect(pick({ path: '/', headers: canary, query: { debug: '1' } })).to.equal('debug');
    expect(pick({ path: '/', headers: { ...canary, 'x-trace': '' } }), 'regex * means present, even empty').to.equal('present');
    expect(pick({ path: '/', headers: canary, sourceNamespace: 'shop', sourceLabels: { app: 'cart', v: '1' } })).to.equal('from-shop');
    expect(pick({ path: '/', headers: canary, sourceNamespace: 'shop' }), 'labels unknown: the match does not hold').to.equal('default');
    expect(selectRoute([{ name: 'absent', match: [{ withoutHeaders: { 'x-a': { regex: '*' } } }] }], { headers: { 'x-a': 'v' } }), 'withoutHeaders * means absent').to.equal(undefined);
  });

  it('no catch-all route: undefined (Istio default route)', function () {
    expect(selectRoute(routes.slice(0, 2), { path: '/x' })).to.equal(undefined);
  });
});
