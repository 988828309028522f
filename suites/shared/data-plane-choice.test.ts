import { expect } from 'chai';
import { EnvoyDataPlane, ReferenceDataPlane } from '../../harness/index.ts';
import { chooseDataPlane, isDataPlaneAdapter } from './data-plane-choice.ts';

describe('data plane choice', function () {
  it('knows an adapter the mesh environment can start pods with from one it cannot', function () {
    expect(isDataPlaneAdapter(new ReferenceDataPlane())).to.equal(true);
    // The Envoy adapter renders the whole mesh at once (render(mesh)): not yet the per-pod interface.
    expect(isDataPlaneAdapter(new EnvoyDataPlane())).to.equal(new EnvoyDataPlane().render.length >= 2);
    expect(isDataPlaneAdapter({ info: async () => ({}), render: (_m: unknown) => undefined, features: new Set() })).to.equal(false);
    expect(isDataPlaneAdapter(undefined)).to.equal(false);
  });

  it('runs the reference data plane, and reports it as itself', async function () {
    const choice = await chooseDataPlane('reference');
    expect(choice.adapter?.name).to.equal('reference');
    expect(choice.skipReason).to.equal(undefined);
    expect(choice.info).to.include({ name: 'reference', available: true });
  });
});
