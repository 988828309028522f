/**
 * A data plane that renders its proxies wrong on purpose, for the "can it fail" tests: it wraps a
 * real adapter (the reference sidecar or Envoy) and alters what that adapter is asked to render
 * (the resolved policies), or the files it writes (the reference sidecar's sidecar.json, or the
 * SDS and cluster files Envoy watches). Each breakage is a bug a real data plane could have. Most can
 * be changed on a running environment (apply() renders every proxy again with them); those in
 * RESTART_ONLY must be in place when the pods start.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import {
  MeshCa,
  awaitConvergence,
  SIDECAR_CERT_DIR,
  SIDECAR_CONFIG_FILE,
  readWorkloadFiles,
  writeWorkloadFiles,
  type AuthorizationPolicy,
  type DataPlaneAdapter,
  type DataPlaneInfo,
  type Feature,
  type LiveReload,
  type ProxyTarget,
  type RenderOptions,
  type RenderedProxy,
  type ResolvedMesh,
  type ResolvedWorkload,
} from '../../../harness/index.ts';
import { unixGet } from '../../../harness/dataplane/unix-http.ts';
import { RBAC_NETWORK_FILTER } from '../../../harness/dataplane/envoy/rbac-filters.ts';

export const BREAKAGES = {
  /** STRICT rendered as PERMISSIVE: plaintext gets in where it must be reset. */
  'strict-as-permissive': 'STRICT ports are rendered PERMISSIVE',
  /** A port with no PeerAuthentication rendered STRICT instead of Istio's PERMISSIVE default. */
  'default-strict': "ports no PeerAuthentication covers are rendered STRICT instead of Istio's PERMISSIVE default",
  /** portLevelMtls ignored: every port gets its workload's mode. */
  'port-level-ignored': 'portLevelMtls is ignored: every port gets its workload-level mode',
  /** A foreign trust domain trusted as an alias: the server accepts spiffe://evil.example/… */
  'trust-foreign-domain': 'the trust domain evil.example is trusted as an alias of the mesh trust domain',
  /** The TLS floor lowered to 1.0, with CBC-SHA1 suites a TLS 1.0 client can use: old clients get in. */
  'tls-floor-tls10': 'the minimum TLS version is rendered as TLS 1.0, with weak (CBC, SHA-1) cipher suites allowed',
  /** A client's x-forwarded-client-cert passed to the app as it came (forward_client_cert_details ALWAYS_FORWARD_ONLY). */
  'xfcc-plaintext-forwarded': "a client's x-forwarded-client-cert reaches the app as it came, on plaintext too (forward_client_cert_details ALWAYS_FORWARD_ONLY instead of APPEND_FORWARD)",
  /** The TCP filter chains lose their network RBAC filters: every TCP connection is proxied. */
  'tcp-rbac-skipped': 'the TCP filter chains have no RBAC filter (authorization is enforced on HTTP only)',
  /** The TLS floor raised to 1.3: TLS 1.2 clients are refused. */
  'tls13-only': 'the minimum TLS version is rendered as TLS 1.3',
  /** Certificates read from a copy made at render time: rotations are never picked up. */
  'frozen-certificates': 'the sidecar reads a copy of its certificates made when its config was written, so later rotations never reach it',
  /** The sidecar presents a certificate for its identity from another CA than the plug-in CA. */
  'foreign-ca-certificates': 'the sidecar presents a certificate for its own identity issued by a CA other than the plug-in CA',
  /** ALLOW rules lose their paths and notPaths: any path is allowed where the rule matches otherwise. */
  'ignore-paths': 'ALLOW rules are rendered without their paths and notPaths',
  /** DENY policies dropped. */
  'drop-deny': 'DENY policies are not rendered',
  /** AUDIT policies dropped. */
  'drop-audit': 'AUDIT policies are not rendered',
  /** `when` conditions dropped from every rule. */
  'ignore-when': '`when` conditions are not rendered',
  /** Path normalization NONE instead of BASE. */
  'no-path-normalization': 'path normalization is rendered as NONE instead of the mesh setting (BASE)',
  /** Client sidecars speak plaintext to every peer, and STRICT ports accept it: calls succeed, and cross the pod network readable. */
  'plaintext-to-strict-peer': 'client sidecars send plaintext to every peer (auto mTLS reads every port as DISABLE), and STRICT ports are rendered PERMISSIVE, so they accept it',
  /** A DISABLE port rendered for every in-mesh caller: auto mTLS sends plaintext to every peer port. */
  'disable-for-in-mesh': "client sidecars read every peer's port as DISABLE, so auto mTLS sends in-mesh calls in plaintext",
  /** Client sidecars' secure naming also accepts a service account no workload runs as. */
  'secure-naming-accepts-impostor': `client sidecars accept ${'spiffe://cluster.local/ns/prod-namespace/sa/impostor'} as the identity of every destination (secure naming too loose)`,
} as const;

/** The suites 'tls-floor-tls10' adds: the only ones TLS 1.0 and 1.1 can negotiate with an ECDSA or RSA certificate. */
export const WEAK_TLS10_SUITES = ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'AES128-SHA'] as const;

/** The identity 'secure-naming-accepts-impostor' lets through: the impostor of the secure-naming case. */
export const IMPOSTOR_URI = 'spiffe://cluster.local/ns/prod-namespace/sa/impostor';

export type Breakage = keyof typeof BREAKAGES;

/**
 * Breakages in parts of the config a running reference sidecar does not re-apply (its TLS
 * settings and certificate folder): they take effect only in pods started with them.
 */
export const RESTART_ONLY: ReadonlySet<Breakage> = new Set<Breakage>(['tls13-only', 'frozen-certificates', 'foreign-ca-certificates']);

const FROZEN_CERT_DIR = 'certs-frozen';

export class BreakableDataPlane implements DataPlaneAdapter {
  readonly name: string;
  readonly features: ReadonlySet<Feature>;
  readonly liveReload?: LiveReload;
  /** The breakages in force for the next render; empty renders faithfully. */
  breakages: readonly Breakage[];
  readonly #inner: DataPlaneAdapter;
  #foreignCa: Promise<MeshCa> | undefined;

  constructor(inner: DataPlaneAdapter, breakages: readonly Breakage[] = []) {
    this.#inner = inner;
    this.name = inner.name;
    this.features = inner.features;
    this.breakages = breakages;
    if (inner.liveReload !== undefined) this.liveReload = inner.liveReload;
  }

  async info(): Promise<DataPlaneInfo> {
    return this.#inner.info();
  }

  async render(mesh: ResolvedMesh, target: ProxyTarget, options: RenderOptions): Promise<RenderedProxy> {
    const breakages = this.breakages;
    const broken = breakages.reduce((m, b) => breakMeshFor(breakMesh(m, b), b, target), mesh);
    const brokenTarget: ProxyTarget = target.kind === 'workload' ? { ...target, workload: broken.workloads.find((w) => w.key === target.workload.key) ?? target.workload } : target;
    const rendered = await this.#inner.render(broken, brokenTarget, options);
    const certificates = breakages.includes('foreign-ca-certificates') ? 'foreign' : breakages.includes('frozen-certificates') ? 'frozen' : undefined;
    const files: FileBreaks = {
      frozen: certificates !== undefined,
      looseNaming: breakages.includes('secure-naming-accepts-impostor'),
      weakTls: breakages.includes('tls-floor-tls10'),
      forwardXfcc: breakages.includes('xfcc-plaintext-forwarded'),
      noTcpRbac: breakages.includes('tcp-rbac-skipped'),
    };
    if (!Object.values(files).some((b) => b)) return rendered;
    const identity = target.kind === 'workload' ? { namespace: target.workload.namespace, serviceAccount: target.workload.serviceAccount } : undefined;
    const envoy = this.#inner.name === 'envoy';
    return {
      ...rendered,
      write: async (sidecarDir) => {
        await rendered.write(sidecarDir);
        if (certificates !== undefined) {
          const frozen = join(sidecarDir, FROZEN_CERT_DIR);
          rmSync(frozen, { recursive: true, force: true });
          if (certificates === 'foreign' && identity !== undefined) {
            this.#foreignCa ??= MeshCa.create();
            await writeWorkloadFiles(frozen, await (await this.#foreignCa).issue(identity));
          } else {
            await writeWorkloadFiles(frozen, await readWorkloadFiles(join(sidecarDir, SIDECAR_CERT_DIR)));
          }
        }
        if (envoy) await breakEnvoyFiles(join(sidecarDir, 'envoy'), files);
        else await breakReferenceConfig(join(sidecarDir, SIDECAR_CONFIG_FILE), files);
      },
    };
  }
}

async function replaceFile(path: string, text: string): Promise<void> {
  await writeFile(`${path}.broken.tmp`, text);
  await rename(`${path}.broken.tmp`, path);
}

/** The breakages made in the files a data plane reads, rather than in the mesh it is asked to render. */
interface FileBreaks {
  /** Certificates read from FROZEN_CERT_DIR. */
  readonly frozen: boolean;
  /** Client sidecars also accept IMPOSTOR_URI as a server's identity. */
  readonly looseNaming: boolean;
  /** Inbound TLS from 1.0, with WEAK_TLS10_SUITES. */
  readonly weakTls: boolean;
  /** Inbound HTTP passes a client's x-forwarded-client-cert on untouched. */
  readonly forwardXfcc: boolean;
  /** Inbound TCP chains without network RBAC. */
  readonly noTcpRbac: boolean;
}

/** The reference sidecar's config: its certificate folder, its TLS floor and suites, its XFCC handling, and each cluster's accepted server identities. */
async function breakReferenceConfig(configPath: string, { frozen, looseNaming, weakTls, forwardXfcc, noTcpRbac }: FileBreaks): Promise<void> {
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
    certificates: { dir: string };
    mesh: { minTlsVersion: string; cipherSuites: string[] };
    inbound: { forwardClientCertDetails?: string; rbac: { http: unknown[]; tcp: unknown[] } };
    outbound?: { clusters: { tls: { subjectAltNames: string[] } }[] };
  };
  if (frozen) config.certificates.dir = FROZEN_CERT_DIR;
  if (weakTls) config.mesh = { ...config.mesh, minTlsVersion: 'TLSv1', cipherSuites: [...config.mesh.cipherSuites, ...WEAK_TLS10_SUITES] };
  if (forwardXfcc) config.inbound.forwardClientCertDetails = 'ALWAYS_FORWARD_ONLY';
  if (noTcpRbac) config.inbound.rbac.tcp = [];
  if (looseNaming) for (const cluster of config.outbound?.clusters ?? []) cluster.tls.subjectAltNames.push(IMPOSTOR_URI);
  await replaceFile(configPath, `${JSON.stringify(config, null, 2)}\n`);
}

type Yaml = Record<string, unknown>;

/** Envoy's files: the SDS secrets point at the frozen folder; every upstream TLS context also accepts the impostor; every downstream one takes TLS 1.0; every inbound HCM forwards XFCC untouched. */
async function breakEnvoyFiles(dir: string, { frozen, looseNaming, weakTls, forwardXfcc, noTcpRbac }: FileBreaks): Promise<void> {
  const admin = join(dir, '..', 'admin.sock');
  if (weakTls || forwardXfcc || noTcpRbac) {
    const path = join(dir, 'lds.yaml');
    const lds = parse(readFileSync(path, 'utf8')) as { resources: Yaml[] };
    let changed = 0;
    for (const listener of lds.resources) {
      if (!String(listener['name']).startsWith('inbound')) continue;
      for (const chain of (listener['filter_chains'] as Yaml[] | undefined) ?? []) {
        const params = ((((chain['transport_socket'] as Yaml | undefined)?.['typed_config'] as Yaml | undefined)?.['common_tls_context'] as Yaml | undefined)?.['tls_params'] as Yaml | undefined);
        if (weakTls && params !== undefined) {
          params['tls_minimum_protocol_version'] = 'TLSv1_0';
          params['cipher_suites'] = [...((params['cipher_suites'] as string[] | undefined) ?? []), ...WEAK_TLS10_SUITES];
          changed += 1;
        }
        if (noTcpRbac) {
          const filters = (chain['filters'] as Yaml[] | undefined) ?? [];
          chain['filters'] = filters.filter((f) => f['name'] !== RBAC_NETWORK_FILTER);
          changed += filters.length - (chain['filters'] as Yaml[]).length;
        }
        for (const filter of (chain['filters'] as Yaml[] | undefined) ?? []) {
          const hcm = filter['typed_config'] as Yaml | undefined;
          if (forwardXfcc && hcm?.['forward_client_cert_details'] !== undefined) {
            hcm['forward_client_cert_details'] = 'ALWAYS_FORWARD_ONLY';
            changed += 1;
          }
        }
      }
    }
    await replaceFile(path, stringify(lds, { lineWidth: 0 }));
    // A client pod has no inbound listener: nothing to wait for.
    if (changed > 0 && existsSync(admin)) {
      await awaitEnvoyDump(admin, 'dynamic_listeners', 'the broken inbound listeners', (dump) =>
        (!weakTls || dump.includes('TLSv1_0')) && (!forwardXfcc || dump.includes('ALWAYS_FORWARD_ONLY')) && (!noTcpRbac || !dump.includes(RBAC_NETWORK_FILTER)),
      );
    }
  }
  if (frozen) {
    for (const file of ['sds-default.yaml', 'sds-rootca.yaml']) {
      const path = join(dir, file);
      await replaceFile(path, readFileSync(path, 'utf8').replaceAll(`/run/meshproof/${SIDECAR_CERT_DIR}`, `/run/meshproof/${FROZEN_CERT_DIR}`));
    }
  }
  if (looseNaming) {
    const path = join(dir, 'cds.yaml');
    const cds = parse(readFileSync(path, 'utf8')) as { resources: Yaml[] };
    const widen = (socket: Yaml | undefined): void => {
      const context = (socket?.['typed_config'] as Yaml | undefined)?.['common_tls_context'] as Yaml | undefined;
      const validation = (context?.['combined_validation_context'] as Yaml | undefined)?.['default_validation_context'] ?? context?.['validation_context'];
      const sans = (validation as Yaml | undefined)?.['match_typed_subject_alt_names'] as Yaml[] | undefined;
      sans?.push({ san_type: 'URI', matcher: { exact: IMPOSTOR_URI } });
    };
    for (const cluster of cds.resources) {
      widen(cluster['transport_socket'] as Yaml | undefined);
      for (const m of (cluster['transport_socket_matches'] as Yaml[] | undefined) ?? []) widen(m['transport_socket'] as Yaml | undefined);
    }
    await replaceFile(path, stringify(cds, { lineWidth: 0 }));
    // A running Envoy may have taken the faithful file of this generation first: wait until it runs the broken one.
    if (existsSync(admin)) await awaitEnvoyDump(admin, 'dynamic_active_clusters', 'the widened clusters', (dump) => dump.includes(IMPOSTOR_URI));
  }
}

/** Waits until Envoy's config dump of `resource` shows the breakage: it runs the broken file, not the faithful one it may have read first. */
async function awaitEnvoyDump(admin: string, resource: string, what: string, broken: (dump: string) => boolean): Promise<void> {
  await awaitConvergence(async () => (broken((await unixGet(admin, `/config_dump?resource=${resource}`, 2_000)).body) ? undefined : new Error(`Envoy does not run ${what} yet`)), {
    name: `broken Envoy file in effect (${what})`,
    timeoutMs: 10_000,
    intervalMs: 50,
  });
}

/**
 * The resolved mesh as one proxy with this bug would see it, for bugs in how a proxy sees its
 * peers: every workload but the proxy's own has its ports read as DISABLE (auto mTLS then sends
 * plaintext to them); with 'plaintext-to-strict-peer' the proxy's own STRICT ports also take
 * plaintext, so its peers' plaintext gets in.
 */
export function breakMeshFor(mesh: ResolvedMesh, breakage: Breakage, target: ProxyTarget): ResolvedMesh {
  if (breakage !== 'plaintext-to-strict-peer' && breakage !== 'disable-for-in-mesh') return mesh;
  const own = target.kind === 'workload' ? target.workload.key : undefined;
  return {
    ...mesh,
    workloads: mesh.workloads.map((w) => {
      if (w.key !== own) return { ...w, ports: w.ports.map((p) => ({ ...p, mtlsMode: 'DISABLE' as const })) };
      return breakage === 'plaintext-to-strict-peer' ? breakWorkload(w, 'strict-as-permissive') : w;
    }),
  };
}

/** The resolved mesh as a data plane with this bug would see it. */
export function breakMesh(mesh: ResolvedMesh, breakage: Breakage): ResolvedMesh {
  const settings = mesh.mesh;
  switch (breakage) {
    case 'trust-foreign-domain':
      return { ...mesh, mesh: { ...settings, trustDomainAliases: [...settings.trustDomainAliases, 'evil.example'] } };
    case 'tls13-only':
      return { ...mesh, mesh: { ...settings, minTlsVersion: 'TLSv1.3' } };
    case 'no-path-normalization':
      return { ...mesh, mesh: { ...settings, pathNormalization: 'NONE' } };
    case 'tls-floor-tls10':
    case 'xfcc-plaintext-forwarded':
    case 'tcp-rbac-skipped':
    case 'frozen-certificates':
    case 'foreign-ca-certificates':
    case 'secure-naming-accepts-impostor':
      return mesh;
    default:
      return { ...mesh, workloads: mesh.workloads.map((w) => breakWorkload(w, breakage)) };
  }
}

function breakWorkload(w: ResolvedWorkload, breakage: Breakage): ResolvedWorkload {
  switch (breakage) {
    case 'strict-as-permissive':
      return { ...w, mtlsMode: w.mtlsMode === 'STRICT' ? 'PERMISSIVE' : w.mtlsMode, ports: w.ports.map((p) => (p.mtlsMode === 'STRICT' ? { ...p, mtlsMode: 'PERMISSIVE' } : p)) };
    case 'default-strict':
      return { ...w, ports: w.ports.map((p) => (p.mtlsSteps.every((s) => s.mode === 'UNSET') ? { ...p, mtlsMode: 'STRICT' } : p)) };
    case 'port-level-ignored':
      return { ...w, ports: w.ports.map((p) => ({ ...p, mtlsMode: w.mtlsMode, mtlsSteps: p.mtlsSteps.filter((s) => s.scope !== 'port') })) };
    case 'drop-deny':
      return { ...w, authorizationPolicies: w.authorizationPolicies.filter((p) => p.spec.action !== 'DENY') };
    case 'drop-audit':
      return { ...w, authorizationPolicies: w.authorizationPolicies.filter((p) => p.spec.action !== 'AUDIT') };
    case 'ignore-paths':
      return { ...w, authorizationPolicies: w.authorizationPolicies.map((p) => (p.spec.action === undefined || p.spec.action === 'ALLOW' ? withoutPaths(p) : p)) };
    case 'ignore-when':
      return { ...w, authorizationPolicies: w.authorizationPolicies.map((p) => ({ ...p, spec: { ...p.spec, ...(p.spec.rules === undefined ? {} : { rules: p.spec.rules.map(({ when: _when, ...rule }) => rule) }) } })) };
    default:
      return w;
  }
}

function withoutPaths(p: AuthorizationPolicy): AuthorizationPolicy {
  if (p.spec.rules === undefined) return p;
  const rules = p.spec.rules.map((rule) =>
    rule.to === undefined
      ? rule
      : {
          ...rule,
          to: rule.to.map((t) => {
            const { paths: _paths, notPaths: _notPaths, ...operation } = t.operation ?? {};
            return { ...t, operation };
          }),
        },
  );
  return { ...p, spec: { ...p.spec, rules } };
}
