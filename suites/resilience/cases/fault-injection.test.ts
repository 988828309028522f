import { expect } from 'chai';
import { fitsPercentage } from './fault-injection.ts';

describe('a seeded share against a fault percentage', function () {
  it('fits around the percentage, within 4 standard deviations', function () {
    expect(fitsPercentage(25, 50, 50)).to.equal(true);
    expect(fitsPercentage(12, 50, 50)).to.equal(true);
    expect(fitsPercentage(10, 50, 50)).to.equal(false);
    expect(fitsPercentage(20, 50, 40)).to.equal(true);
  });

  it('never fits none or all: a percentage of 0 or 100 applied by mistake shows', function () {
    expect(fitsPercentage(0, 50, 40)).to.equal(false);
    expect(fitsPercentage(50, 50, 50)).to.equal(false);
  });
});
