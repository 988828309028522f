/**
 * The PeerAuthentication matrix: STRICT, PERMISSIVE and DISABLE, each against every kind of
 * client: the in-mesh client (its sidecar's mTLS), a plaintext client with no sidecar, TLS with no
 * client certificate, and each certificate of the attacker kit. Each row is a line of the
 * specification (istio-semantics.md §1, §6); the oracle adds the details the check also holds
 * the mesh to (the NR flag of a refused plaintext call, the identity the app is told).
 * Together the three cases make the run's tls-check table.
 */
import { Feature, makeAttackerKit, type BadCertKind, type ConformanceCase, type TlsCheckRow } from '../../../harness/index.ts';
import { holdToTable, serviceLabel, settle } from '../../shared/case-support.ts';
import type { ExpectedDecision } from '../../shared/live-decision.ts';
import type { LiveProbeResult, ProbeSource } from '../../shared/live-prober.ts';
import { tlsCheckRow } from '../../shared/report-rows.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { BASE_MANIFESTS, ORDER_SA, portsInMode } from './common.ts';

type Mode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** What each client gets, per mode. Attacker-kit kinds not named reject in every mode. */
interface ModeTable {
  readonly mode: Mode;
  /** The workload ports in this mode under BASE_MANIFESTS, `namespace/name:port`. */
  readonly ports: readonly string[];
  readonly inMesh: ExpectedDecision;
  readonly plaintext: ExpectedDecision;
  readonly noClientCert: ExpectedDecision;
  /** A valid mesh certificate for another service account: the server cannot tell; authorization decides. */
  readonly impersonation: ExpectedDecision;
  readonly description: string;
  readonly shortName: string;
  readonly feature: Feature;
}

const TABLES: readonly ModeTable[] = [
  {
    shortName: 'strict-mode-matrix',
    description:
      'STRICT (payment-service, namespace policy): the in-mesh client gets through with its identity; a plaintext client is reset and the app never sees it; TLS without a client certificate and every forged, expired, foreign or rogue certificate fail the handshake; a valid mesh certificate of another service account is accepted (authorization must judge it).',
    feature: Feature.MtlsStrict,
    mode: 'STRICT',
    ports: ['prod-namespace/payment-service:8080'],
    inMesh: 'allow',
    plaintext: 'reject',
    noClientCert: 'reject',
    impersonation: 'allow',
  },
  {
    shortName: 'permissive-mode-matrix',
    description:
      "PERMISSIVE (product-service:8082 by its workload policy, inventory-service:9080 by Istio's default): plaintext and in-mesh clients both get through (the app is told an identity only for mTLS); TLS still requires a valid mesh certificate, so no-certificate TLS and the attacker kit fail the handshake.",
    feature: Feature.MtlsPermissive,
    mode: 'PERMISSIVE',
    ports: ['prod-namespace/product-service:8082', 'legacy/inventory-service:9080'],
    inMesh: 'allow',
    plaintext: 'allow',
    noClientCert: 'reject',
    impersonation: 'allow',
  },
  {
    shortName: 'disable-mode-matrix',
    description:
      'DISABLE (product-service:8083, port-level policy): only plaintext; the in-mesh client gets through because auto mTLS sends plaintext there (no identity reaches the app); any TLS handshake, even with a valid mesh certificate, fails.',
    feature: Feature.MtlsDisable,
    mode: 'DISABLE',
    ports: ['prod-namespace/product-service:8083'],
    inMesh: 'allow',
    plaintext: 'allow',
    noClientCert: 'reject',
    impersonation: 'reject',
  },
];

/** The rows of one mode: who calls, what the table says. */
async function rows(env: SecurityEnv, table: ModeTable): Promise<{ client: string; clientKind: string; source: ProbeSource; expect: ExpectedDecision }[]> {
  const kit = await makeAttackerKit(env.ca, ORDER_SA);
  const kitRows = [...kit.values()].map((certificate) => ({
    client: env.attacker,
    clientKind: certificate.kind,
    source: { kind: 'kit', certificate } as const,
    expect: certificate.kind === ('impersonation' satisfies BadCertKind) ? table.impersonation : ('reject' as const),
  }));
  return [
    { client: 'order-client', clientKind: `${ORDER_SA.namespace}/${ORDER_SA.serviceAccount}`, source: { kind: 'participant', name: 'prod-namespace/order-client' }, expect: table.inMesh },
    { client: 'product-client', clientKind: 'prod-namespace/product-service-sa', source: { kind: 'participant', name: 'prod-namespace/product-client' }, expect: table.inMesh },
    { client: 'legacy-client', clientKind: 'plaintext', source: { kind: 'participant', name: 'legacy/legacy-client' }, expect: table.plaintext },
    { client: env.attacker, clientKind: 'no client certificate', source: { kind: 'no-client-cert' }, expect: table.noClientCert },
    ...kitRows,
  ];
}

function modeCase(table: ModeTable): ConformanceCase<SecurityEnv> {
  return {
    shortName: table.shortName,
    description: table.description,
    area: 'mtls',
    features: [table.feature],
    manifests: BASE_MANIFESTS,
    async test(ctx) {
      const env = ctx.env;
      const mesh = await env.use(BASE_MANIFESTS);
      const results: LiveProbeResult[] = [];
      const tls: TlsCheckRow[] = [];
      const rowsOfMode = await rows(env, table);
      for (const { key, to, port } of portsInMode(ctx, mesh, table.ports, table.mode)) {
        for (const row of rowsOfMode) {
          const result = await env.prober.run({ source: row.source, to, port, method: 'POST', path: '/pay/1' });
          holdToTable(result, row.expect, `${row.clientKind} → ${key} (${table.mode})`);
          results.push(result);
          tls.push(tlsCheckRow({ client: row.client, clientKind: row.clientKind, service: serviceLabel(mesh, to, port), result }));
        }
      }
      ctx.attach('tlsCheck', tls);
      if (table.impersonation === 'allow') {
        ctx.finding(`${table.mode}: a valid mesh certificate for another service account (attacker kit 'impersonation') completes the handshake, as in Istio: the server checks the trust domain, not who the caller claims to be; AuthorizationPolicy is what limits it, and secure naming protects the client side.`);
      }
      settle(ctx, results, `${table.mode} on ${table.ports.join(', ')}`);
    },
  };
}

export const modeMatrixCases: readonly ConformanceCase<SecurityEnv>[] = TABLES.map(modeCase);
