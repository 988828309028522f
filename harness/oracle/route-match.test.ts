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
  it('no catch-all route: undefined (Istio default route)', function () {
    expect(selectRoute(routes.slice(0, 2), { path: '/x' })).to.equal(undefined);
  });
});
