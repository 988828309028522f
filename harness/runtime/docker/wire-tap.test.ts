import { expect } from 'chai';
import { isMeshproofError } from '../../errors.ts';
import { bridgeOf, findTcpdump, tcpdumpArgs } from './wire-tap.ts';

describe('wire tap (pure parts)', function () {
  const network = { Id: '53932771d65fabcdef0123', Name: 'mp-1-mesh', Driver: 'bridge', Options: {}, IPAM: { Driver: 'default', Config: [{ Subnet: '172.18.0.0/16' }] } };

  it("names Docker's bridge of a user-defined network, or the one its options name", function () {
    expect(bridgeOf(network)).to.deep.equal({ iface: 'br-53932771d65f', subnet: '172.18.0.0/16' });
    expect(bridgeOf({ ...network, Options: { 'com.docker.network.bridge.name': 'mp0' } }).iface).to.equal('mp0');
  });

  it('refuses a network that is no bridge, or has no subnet, with the reason', function () {
    expect(() => bridgeOf({ ...network, Driver: 'overlay' })).to.throw(/'overlay' driver, not a Linux bridge/);
    expect(() => bridgeOf({ ...network, IPAM: { Driver: 'default', Config: [] } })).to.throw(/no subnet/);
  });

  it('captures whole TCP packets between addresses of the subnet, flushed as they come, bounded in packets', function () {
    const args = tcpdumpArgs('br-1', '10.1.0.0/24', { maxPackets: 500 });
    expect(args).to.include.members(['-U', '--immediate-mode', '-n']);
    expect(args.slice(args.indexOf('-c'), args.indexOf('-c') + 2)).to.deep.equal(['-c', '500']);
    expect(args).to.not.include('-s');
    expect(args.at(-1)).to.equal('tcp and src net 10.1.0.0/24 and dst net 10.1.0.0/24');
  });

  it('finds tcpdump where MESHPROOF_TCPDUMP says, and says what to do when there is none', function () {
    expect(findTcpdump({ MESHPROOF_TCPDUMP: process.execPath })).to.equal(process.execPath);
    let error: unknown;
    try {
      findTcpdump({ MESHPROOF_TCPDUMP: '/nonexistent/tcpdump' });
    } catch (e) {
      error = e;
    }
    expect(isMeshproofError(error, 'MESHPROOF_ERR_WIRE_CAPTURE')).to.equal(true);
    expect((error as Error).message).to.match(/MESHPROOF_TCPDUMP names \/nonexistent\/tcpdump, which does not exist/);
  });
});
