/**
 * Promise 3: circuit breakers eject failing endpoints, retries and timeouts hold, and the metrics
 * agree. The seed's DestinationRule and VirtualService (and variations of them) on four replicas
 * of payment-service, with faults injected from the run seed; every case is a chaos experiment
 * whose journal goes into the report, and compares the traffic and the client sidecar's metrics
 * with the oracle. Policy durations run at the run's time scale (--time-scale, default 0.02).
 */
import { conformanceSuite } from '../../harness/index.ts';
import { resilienceCases } from './cases/index.ts';
import { resilienceSuiteSetup } from './resilience-env.ts';

// A case's traffic lasts a few policy intervals and ejections: at time scale 1 (real time) minutes.
conformanceSuite(({ timeScale }) => ({
  area: 'resilience',
  cases: resilienceCases,
  setup: (run) => resilienceSuiteSetup(run),
  caseTimeoutMs: 60_000 + Math.ceil(400_000 * timeScale),
}));
