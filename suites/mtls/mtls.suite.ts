/**
 * Promise 1: STRICT mTLS rejects every non-mesh call. PeerAuthentication modes and scopes, the
 * migration to STRICT on running pods, secure naming, certificate rotation under traffic and the
 * plug-in CA chain, and what an eavesdropper on the pod network sees of it all, against live pods
 * of the data plane the run names (--dataplane).
 */
import { conformanceSuite } from '../../harness/index.ts';
import { securitySuiteSetup } from '../shared/security-env.ts';
import { mtlsCases } from './cases/index.ts';
import { BASE_MANIFESTS } from './cases/common.ts';

conformanceSuite({
  area: 'mtls',
  cases: mtlsCases,
  // The pod network is captured from before the first pod starts: the wire cases ask it what an eavesdropper saw.
  setup: (options) => securitySuiteSetup(options, { suiteDir: import.meta.dirname, manifests: BASE_MANIFESTS, observeWire: true }),
  caseTimeoutMs: 60_000,
});
