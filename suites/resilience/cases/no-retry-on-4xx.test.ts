import { expect } from 'chai';
import { receiptsOf, requestIndexOf, type MeshForwardResult } from '../../../harness/index.ts';
import { notOnce } from './no-retry-on-4xx.ts';

describe('no-retry-on-4xx: attempts counted from the apps’ own records', function () {
  const result = (index: number): MeshForwardResult => ({ index, startedAtMs: 0, durationMs: 1, outcome: 'response', status: 409 });

  it('reads the request index header an app recorded', function () {
    expect(requestIndexOf({ headers: { 'x-meshproof-request-index': '7' } })).to.equal(7);
    expect(requestIndexOf({ headers: {} })).to.equal(undefined);
    expect(requestIndexOf({ headers: { 'x-meshproof-request-index': 'x' } })).to.equal(undefined);
  });

  it('names each request not received exactly once, with the pods that received it', function () {
    const forward = {
      results: [result(0), result(1), result(2)],
      receipts: [
        { pod: 'p-1', index: 0 },
        { pod: 'p-2', index: 1 },
        { pod: 'p-3', index: 1 },
        { pod: 'p-3', index: undefined },
      ],
    };
    expect(receiptsOf(forward, 1)).to.deep.equal(['p-2', 'p-3']);
    expect(notOnce(forward)).to.deep.equal(['request 1 reached the apps 2 times (p-2, p-3)', 'request 2 reached the apps 0 times']);
  });
});
