/**
 * A data plane with a resilience bug on purpose, for the "can it fail" test: it wraps a real
 * adapter (the reference sidecar or Envoy) and renders the mesh as a proxy with that bug would
 * enforce it, while the cases and the oracle still read the policies as written. The catalogue
 * lists the nearest wrong behaviours a proxy (or a mistranslating control plane) could ship, each
 * with the case that must catch it. Most alter the resolved policies before either adapter renders
 * them, so they are the same bug on both planes; those with no Istio field to alter change the
 * rendered files (the reference sidecar's sidecar.json, Envoy's cds.yaml) to the same effect.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  SIDECAR_CONFIG_FILE,
  awaitConvergence,
  durationMs,
  formatDuration,
  resolveMesh,
  type DataPlaneAdapter,
  type DataPlaneInfo,
  type DestinationRule,
  type Feature,
  type HttpRoute,
  type LiveReload,
  type ProxyTarget,
  type RenderOptions,
  type RenderedProxy,
  type ResolvedMesh,
  type TrafficPolicy,
  type VirtualService,
} from '../../../harness/index.ts';
import { unixGet } from '../../../harness/dataplane/unix-http.ts';

/** One wrong behaviour: what the broken plane does, the case that must fail on it, and where it is made. */
export interface ResilienceBreakageEntry {
  readonly does: string;
  readonly caughtBy: string;
  /** `policies`: the resolved mesh is altered before the adapter renders it; `rendered files`: the files it wrote are. */
  readonly alters: 'policies' | 'rendered files';
}

export const RESILIENCE_BREAKAGES = {
  'drop-outlier-detection': { does: 'DestinationRules are rendered without their outlierDetection: nothing is ever ejected', caughtBy: 'outlier-ejects-failing-replica', alters: 'policies' },
  'drop-retries': { does: "VirtualService routes are rendered without their retries, so Istio's default retry policy applies (no 5xx retried)", caughtBy: 'retries-absorb-transient-failures', alters: 'policies' },
  'retry-on-4xx': { does: 'retryOn gets retriable-4xx and every 4xx code as retriable-status-codes: client errors are retried', caughtBy: 'no-retry-on-4xx', alters: 'policies' },
  'route-timeout-off': { does: 'VirtualService routes are rendered without their timeout: a hung upstream holds the request', caughtBy: 'per-try-and-route-timeouts-504-ut', alters: 'policies' },
  'route-timeout-doubled': { does: 'route timeouts are rendered twice as long', caughtBy: 'per-try-and-route-timeouts-504-ut', alters: 'policies' },
  'per-try-timeout-off': { does: 'retries are rendered without perTryTimeout: one slow try uses up the route timeout', caughtBy: 'per-try-and-route-timeouts-504-ut', alters: 'policies' },
  'ejection-time-not-doubled': { does: 'a host ejected again is ejected for baseEjectionTime, not baseEjectionTime × its ejection count (max ejection time rendered as the base)', caughtBy: 'outlier-ejects-failing-replica', alters: 'rendered files' },
  'max-ejection-percent-ignored': { does: 'maxEjectionPercent is ignored: every replica may be ejected', caughtBy: 'outlier-cap-max-ejection-percent', alters: 'policies' },
  'pool-limits-off-by-one': { does: 'connectionPool maxConnections and http1MaxPendingRequests are enforced one too high', caughtBy: 'connection-pool-overflow-503-uo', alters: 'policies' },
  'fault-abort-ignored': { does: 'VirtualService fault.abort is not rendered', caughtBy: 'fault-injection-delay-and-abort', alters: 'policies' },
  'fault-delay-ignored': { does: 'VirtualService fault.delay is not rendered', caughtBy: 'fault-injection-delay-and-abort', alters: 'policies' },
} as const satisfies Record<string, ResilienceBreakageEntry>;

export type ResilienceBreakage = keyof typeof RESILIENCE_BREAKAGES;
export type PlaneName = 'reference' | 'envoy';

/** Wrong behaviours that cannot be made on a plane, with why (none so far: every entry is expressible on both). */
export const NOT_EXPRESSIBLE: readonly { readonly breakage: ResilienceBreakage; readonly plane: PlaneName; readonly reason: string }[] = [];

/** Wrong behaviours a plane can be given but no probe of the suite catches there yet, with why: counted as tried and not caught. */
const POOL_GAP =
  "the pool case bounds what is admitted at once from above by Envoy's documented overshoot (maxConnections + one connection per host and pool + pending: 1 + 4 × pools + 1 for payment-pool), so one more connection and one more pending request stay under it; a tight bound needs each plane's exact admission, which Envoy's per-worker pools (--concurrency > 1) do not give";
export const KNOWN_GAPS: Readonly<Partial<Record<PlaneName, Partial<Record<ResilienceBreakage, string>>>>> = {
  reference: { 'pool-limits-off-by-one': POOL_GAP },
  envoy: { 'pool-limits-off-by-one': POOL_GAP },
};

/** Every 4xx status, as integer retryOn tokens (istiod makes them retriable_status_codes). */
const ALL_4XX = Array.from({ length: 100 }, (_, i) => String(400 + i));

export class BrokenResilienceDataPlane implements DataPlaneAdapter {
  readonly name: string;
  readonly features: ReadonlySet<Feature>;
  readonly liveReload?: LiveReload;
  /** In force for the next render; empty renders faithfully. */
  breakages: readonly ResilienceBreakage[];
  readonly #inner: DataPlaneAdapter;

  constructor(inner: DataPlaneAdapter, breakages: readonly ResilienceBreakage[] = []) {
    this.#inner = inner;
    this.name = inner.name;
    this.features = inner.features;
    this.breakages = breakages;
    if (inner.liveReload !== undefined) this.liveReload = inner.liveReload;
  }

  info(): Promise<DataPlaneInfo> {
    return this.#inner.info();
  }

  async render(mesh: ResolvedMesh, target: ProxyTarget, options: RenderOptions): Promise<RenderedProxy> {
    const rendered = await this.#inner.render(breakResilience(mesh, this.breakages), target, options);
    if (!this.breakages.includes('ejection-time-not-doubled')) return rendered;
    const envoy = this.#inner.name === 'envoy';
    return {
      ...rendered,
      write: async (sidecarDir) => {
        await rendered.write(sidecarDir);
        if (envoy) await capEnvoyEjectionTime(sidecarDir);
        else await capReferenceEjectionTime(join(sidecarDir, SIDECAR_CONFIG_FILE));
      },
    };
  }
}

/** The mesh as a data plane with these bugs would see it (the policy-level ones; the others leave it as is). */
export function breakResilience(mesh: ResolvedMesh, breakages: readonly ResilienceBreakage[]): ResolvedMesh {
  const atPolicies = breakages.filter((b) => RESILIENCE_BREAKAGES[b].alters === 'policies');
  if (atPolicies.length === 0) return mesh;
  let { destinationRules, virtualServices } = mesh.policies;
  for (const b of atPolicies) {
    const policy = POLICY_BREAKS[b];
    if (policy !== undefined) destinationRules = destinationRules.map((rule) => mapTrafficPolicies(rule, policy));
    const route = ROUTE_BREAKS[b];
    if (route !== undefined) virtualServices = virtualServices.map((vs) => ({ ...vs, spec: { ...vs.spec, ...(vs.spec.http === undefined ? {} : { http: vs.spec.http.map(route) }) } }));
  }
  return resolveMesh({ ...mesh.policies, destinationRules, virtualServices }, mesh.topology);
}

type PolicyBreak = <T extends Omit<TrafficPolicy, 'portLevelSettings'>>(policy: T) => T;

const POLICY_BREAKS: Partial<Record<ResilienceBreakage, PolicyBreak>> = {
  'drop-outlier-detection': (policy) => {
    const { outlierDetection: _dropped, ...rest } = policy;
    return rest as typeof policy;
  },
  'max-ejection-percent-ignored': (policy) => (policy.outlierDetection === undefined ? policy : { ...policy, outlierDetection: { ...policy.outlierDetection, maxEjectionPercent: 100 } }),
  'pool-limits-off-by-one': (policy) => {
    const pool = policy.connectionPool;
    if (pool === undefined) return policy;
    const tcp = pool.tcp?.maxConnections === undefined ? pool.tcp : { ...pool.tcp, maxConnections: pool.tcp.maxConnections + 1 };
    const http = pool.http?.http1MaxPendingRequests === undefined ? pool.http : { ...pool.http, http1MaxPendingRequests: pool.http.http1MaxPendingRequests + 1 };
    return { ...policy, connectionPool: { ...pool, ...(tcp === undefined ? {} : { tcp }), ...(http === undefined ? {} : { http }) } };
  },
};

const ROUTE_BREAKS: Partial<Record<ResilienceBreakage, (route: HttpRoute) => HttpRoute>> = {
  'drop-retries': ({ retries: _dropped, ...route }) => route,
  'retry-on-4xx': (route) => (route.retries === undefined ? route : { ...route, retries: { ...route.retries, retryOn: [route.retries.retryOn ?? 'connect-failure,refused-stream,unavailable,cancelled', 'retriable-4xx', ...ALL_4XX].join(',') } }),
  'route-timeout-off': ({ timeout: _dropped, ...route }) => route,
  'route-timeout-doubled': (route) => (route.timeout === undefined ? route : { ...route, timeout: formatDuration(2 * durationMs(route.timeout)) }),
  'per-try-timeout-off': (route) => {
    if (route.retries?.perTryTimeout === undefined) return route;
    const { perTryTimeout: _dropped, ...retries } = route.retries;
    return { ...route, retries };
  },
  'fault-abort-ignored': (route) => {
    if (route.fault?.abort === undefined) return route;
    const { abort: _dropped, ...fault } = route.fault;
    return { ...route, fault };
  },
  'fault-delay-ignored': (route) => {
    if (route.fault?.delay === undefined) return route;
    const { delay: _dropped, ...fault } = route.fault;
    return { ...route, fault };
  },
};

/** The rule with `f` applied to its traffic policy, its port-level settings and its subsets'. */
function mapTrafficPolicies(rule: DestinationRule, f: PolicyBreak): DestinationRule {
  const tp = rule.spec.trafficPolicy;
  const trafficPolicy = tp === undefined ? undefined : { ...f(tp), ...(tp.portLevelSettings === undefined ? {} : { portLevelSettings: tp.portLevelSettings.map(f) }) };
  const subsets = rule.spec.subsets?.map((s) => (s.trafficPolicy === undefined ? s : { ...s, trafficPolicy: f(s.trafficPolicy) }));
  return { ...rule, spec: { ...rule.spec, ...(trafficPolicy === undefined ? {} : { trafficPolicy }), ...(subsets === undefined ? {} : { subsets }) } };
}

async function replaceFile(path: string, text: string): Promise<void> {
  await writeFile(`${path}.broken.tmp`, text);
  await rename(`${path}.broken.tmp`, path);
}

/** The reference sidecar's clusters: max ejection time = base ejection time, so min(base × n, max) never grows. */
async function capReferenceEjectionTime(configPath: string): Promise<void> {
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { outbound?: { clusters: { outlierDetection?: { baseEjectionTimeMs: number; maxEjectionTimeMs: number } }[] } };
  for (const c of config.outbound?.clusters ?? []) if (c.outlierDetection !== undefined) c.outlierDetection.maxEjectionTimeMs = c.outlierDetection.baseEjectionTimeMs;
  await replaceFile(configPath, `${JSON.stringify(config, null, 2)}\n`);
}

type Yaml = Record<string, unknown>;

/** Envoy's clusters: max_ejection_time = base_ejection_time; then waits until the running Envoy enforces that. */
async function capEnvoyEjectionTime(sidecarDir: string): Promise<void> {
  const path = join(sidecarDir, 'envoy', 'cds.yaml');
  const cds = parse(readFileSync(path, 'utf8')) as { resources: Yaml[] };
  for (const cluster of cds.resources) {
    const od = cluster['outlier_detection'] as Yaml | undefined;
    if (od?.['base_ejection_time'] !== undefined) od['max_ejection_time'] = od['base_ejection_time'];
  }
  await replaceFile(path, stringify(cds, { lineWidth: 0 }));
  // A running Envoy may have taken the faithful file of this generation first: wait until it runs the broken one.
  const admin = join(sidecarDir, 'admin.sock');
  if (!existsSync(admin) || !cds.resources.some((c) => c['outlier_detection'] !== undefined)) return;
  await awaitConvergence(
    async () => {
      const dump = JSON.parse((await unixGet(admin, '/config_dump?resource=dynamic_active_clusters', 2_000)).body) as { configs?: { cluster?: Yaml }[] };
      const ods = (dump.configs ?? []).map((c) => c.cluster?.['outlier_detection'] as Yaml | undefined).filter((od) => od !== undefined);
      return ods.length > 0 && ods.every((od) => od['max_ejection_time'] === od['base_ejection_time']) ? undefined : new Error('Envoy does not run the capped ejection times yet');
    },
    { name: 'broken cds.yaml in effect', timeoutMs: 10_000, intervalMs: 50 },
  );
}
