import { expect } from 'chai';
import { call } from '../../traffic/caller.ts';
import { EchoServer, peerIdentityFromXfcc } from './echo-server.ts';

describe('echo server', function () {
  it('reads the peer identity from the last element of x-forwarded-client-cert', function () {
    expect(peerIdentityFromXfcc('By=spiffe://cluster.local/ns/a/sa/b;Hash=abc;Subject="";URI=spiffe://cluster.local/ns/prod/sa/order')).to.equal('spiffe://cluster.local/ns/prod/sa/order');
    expect(peerIdentityFromXfcc('URI=spiffe://td/ns/x/sa/first,By=y;URI=spiffe://td/ns/x/sa/second')).to.equal('spiffe://td/ns/x/sa/second');
    expect(peerIdentityFromXfcc('Hash=abc')).to.equal(undefined);
    expect(peerIdentityFromXfcc(undefined)).to.equal(undefined);
  });

  it('answers with what it saw and keeps a record of every request', async function () {
    const echo = new EchoServer({ pod: 'payment-0', host: '127.0.0.1', port: 0 });
    await echo.listen();
    try {
      const port = echo.port();
      const observation = await call({ protocol: 'http', host: '127.0.0.1', port, method: 'POST', path: '/pay/1?x=1', headers: { 'x-forwarded-client-cert': 'URI=spiffe://cluster.local/ns/prod/sa/order' } });
      expect(observation.echo).to.include({ pod: 'payment-0', method: 'POST', path: '/pay/1?x=1', peerIdentity: 'spiffe://cluster.local/ns/prod/sa/order', requestId: 1 });
      expect(echo.received().map((r) => r.path)).to.deep.equal(['/pay/1?x=1']);
    } finally {
      await echo.close();
    }
  });
});
