import { expect } from 'chai';
import { layeringProblems, placeOf, type Import } from './layers.ts';

const imp = (from: string, to: string, line = 1): Import => ({ from, to, line });

describe('the layering check (scripts/layers.ts)', function () {
  it('lets a module import its own folder and the layers below', function () {
    expect(layeringProblems([imp('mesh/mesh-environment.ts', 'util/await-convergence.ts'), imp('report/schema.ts', 'spec/attachments.ts'), imp('oracle/inbound.ts', 'oracle/decision.ts')])).to.deep.equal([]);
  });

  it('names an import that climbs a layer, with file and line', function () {
    const problems = layeringProblems([imp('dataplane/types.ts', 'conformance/features.ts', 11)]);
    expect(problems).to.deep.equal(['harness/dataplane/types.ts:11: imports harness/conformance/features.ts, a layer above it (dataplane is on layer 6, conformance on 7)']);
  });

  it('names two folders that import each other, even on one layer', function () {
    const problems = layeringProblems([imp('chaos/experiment.ts', 'conformance/case.ts', 3), imp('conformance/case.ts', 'chaos/fault.ts', 9)]);
    expect(problems).to.include('harness/chaos/experiment.ts:3 and harness/conformance/case.ts:9: chaos and conformance import each other');
  });

  it('keeps the oracle and the data plane apart both ways, and the two data planes apart', function () {
    expect(layeringProblems([imp('dataplane/istiod/rbac.ts', 'oracle/decision.ts', 4)])[0]).to.match(/^harness\/dataplane\/istiod\/rbac.ts:4: imports harness\/oracle\/decision.ts, but dataplane\/istiod and oracle are kept apart/);
    expect(layeringProblems([imp('dataplane/envoy/tls.ts', 'dataplane/reference/config.ts', 2)])[0]).to.match(/dataplane\/envoy and dataplane\/reference are kept apart/);
  });

  it('lets the proxies import the istiod translation, never the other way', function () {
    expect(layeringProblems([imp('dataplane/envoy/outbound.ts', 'dataplane/istiod/outbound-config.ts')])).to.deep.equal([]);
    expect(layeringProblems([imp('dataplane/istiod/rbac.ts', 'dataplane/reference/sidecar/rbac-engine.ts', 5)])).to.deep.equal([
      'harness/dataplane/istiod/rbac.ts:5: imports harness/dataplane/reference/sidecar/rbac-engine.ts, but dataplane/istiod never imports dataplane/reference: one istiod translation: the reference sidecar consumes it',
    ]);
  });

  it('refuses a folder that is on no layer, rather than letting it import anything', function () {
    expect(layeringProblems([imp('probe/live-prober.ts', 'spec/features.ts', 1)])).to.deep.equal(['harness/probe/live-prober.ts:1: probe is on no layer of scripts/layers.ts (add it where DESIGN.md puts it)']);
  });

  it('reads a file\'s room: its top folder, and the adapter folder under dataplane/', function () {
    expect(placeOf('dataplane/reference/sidecar/sidecar.ts')).to.deep.equal({ folder: 'dataplane', sub: 'dataplane/reference' });
    expect(placeOf('dataplane/types.ts')).to.deep.equal({ folder: 'dataplane', sub: 'dataplane' });
    expect(placeOf('errors.ts')).to.deep.equal({ folder: 'errors.ts', sub: 'errors.ts' });
  });
});
