/**
 * Promise 1: STRICT mTLS rejects every non-mesh call. PeerAuthentication modes and scopes, the
 * migration to STRICT on running pods, secure naming, certificate rotation under traffic and the
 * plug-in CA chain, against live pods of the data plane the run names (--dataplane).
 */
import { conformanceSuite } from '../../harness/index.ts';
import { securitySuiteSetup } from '../shared/security-env.ts';
import { mtlsCases } from './cases/index.ts';
import { BASE_MANIFESTS } from './cases/common.ts';

conformanceSuite({
  area: 'mtls',
  cases: mtlsCases,
  setup: (options) => securitySuiteSetup(options, { suiteDir: import.meta.dirname, manifests: BASE_MANIFESTS }),
  caseTimeoutMs: 60_000,
});
