import { expect } from 'chai';
import { SeededRandom, deriveSeed } from './seeded-random.ts';

describe('SeededRandom', function () {
  it('replays the same sequence for the same seed, and another for another seed', function () {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 20 }, () => random.int(0, 1000));
    };
    expect(draw(42)).to.deep.equal(draw(42));
    expect(draw(42)).to.not.deep.equal(draw(43));
  });

  it('gives forked streams that do not depend on what the parent drew', function () {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    b.int(0, 10);
    b.int(0, 10);
    expect(a.fork('fault:payment-1').int(0, 1e6)).to.equal(b.fork('fault:payment-1').int(0, 1e6));
    expect(deriveSeed(7, 'x')).to.not.equal(deriveSeed(7, 'y'));
  });

  it('draws a 20% chance about 20% of the time', function () {
    const random = new SeededRandom(1);
    let hits = 0;
    for (let i = 0; i < 10_000; i += 1) if (random.chance(0.2)) hits += 1;
    expect(hits).to.be.within(1800, 2200);
  });

  it('shuffles into a permutation', function () {
    const shuffled = new SeededRandom(3).shuffle([1, 2, 3, 4, 5, 6]);
    expect([...shuffled].sort()).to.deep.equal([1, 2, 3, 4, 5, 6]);
  });
});
