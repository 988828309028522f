/** The resilience suite's cases, in the order they run (an explicit list: nothing registers itself on import). */
import type { ConformanceCase } from '../../../harness/index.ts';
import type { ResilienceEnv } from '../resilience-env.ts';
import { ejectionCapCase } from './ejection-cap.ts';
import { ejectionCase } from './ejection.ts';
import { faultInjectionCase } from './fault-injection.ts';
import { neverEjectCase } from './never-eject.ts';
import { noRetryOn4xxCase } from './no-retry-on-4xx.ts';
import { panicCase } from './panic.ts';
import { poolOverflowCase } from './pool-overflow.ts';
import { replicaFaultCases } from './replica-faults.ts';
import { retriesCase } from './retries.ts';
import { timeoutsCase } from './timeouts.ts';

export const resilienceCases: readonly ConformanceCase<ResilienceEnv>[] = [ejectionCase, ejectionCapCase, panicCase, neverEjectCase, poolOverflowCase, retriesCase, noRetryOn4xxCase, timeoutsCase, faultInjectionCase, ...replicaFaultCases];
