import { expect } from 'chai';
import { SeededRandom } from '../../util/seeded-random.ts';
import { parseCodes, parseDelay, pickCode } from './fault-knobs.ts';

describe('echo fault knobs', function () {
  it('parses a response-code mix and draws it in proportion, reproducibly', function () {
    const weights = parseCodes('503:20,200:80');
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 5000 }, () => pickCode(weights, random));
    };
    const codes = draw(9);
    const failures = codes.filter((c) => c === 503).length;
    expect(failures).to.be.within(900, 1100);
    expect(draw(9)).to.deep.equal(codes);
  });

  it('refuses a malformed mix or duration, naming the part', function () {
    expect(() => parseCodes('500:x')).to.throw("'500:x'");
    expect(() => parseCodes('500:0')).to.throw('every weight is 0');
    expect(() => parseDelay('fast')).to.throw("'fast'");
    expect(() => parseDelay('-1s')).to.throw("'-1s'");
  });

  it('reads delays as Istio writes durations', function () {
    expect(parseDelay('200ms')).to.equal(200);
    expect(parseDelay('1.5s')).to.equal(1500);
    expect(parseDelay('1m30s')).to.equal(90_000);
  });
});
