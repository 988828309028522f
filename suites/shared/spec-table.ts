/**
 * A case written as a table, one row per line of the specification:
 *
 *   { from: 'order-client', method: 'POST', path: '/pay/1', expect: 'allow', why: 'the one rule matches' }
 *
 * Each row is sent live; the oracle's decision for what was sent must say what the row says (a
 * disagreement is a harness defect, see holdToTable), and both ends of the call must agree with
 * it. The rows become authorization-matrix cells for the report.
 */
import { makeBadCertificate, type AuthzMatrixCell, type BadCertKind, type CaseContext, type ConformanceCase, type Feature } from '../../harness/index.ts';
import { holdToTable, settle } from './case-support.ts';
import type { ExpectedDecision } from './live-decision.ts';
import type { LiveProbeResult, ProbeSource } from './live-prober.ts';
import { matrixCell } from './report-rows.ts';
import type { SecurityEnv } from './security-env.ts';

/**
 * Who sends a row: a client pod of the topology by name (`order-client`, `product-client`,
 * `legacy-client`), `plaintext`, an identity (`identity:legacy/order-service-sa`), TLS with no
 * client certificate, or an attacker-kit certificate aimed at order-service-sa (`kit:rogue-ca`).
 */
export type RowSource = string;

export interface SpecRow {
  readonly from: RowSource;
  /** Destination workload `namespace/name`; default the table's. */
  readonly to?: string;
  readonly port?: number;
  readonly method: string;
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly expect: ExpectedDecision;
  /** The line of the policy or of the specification that makes it so. */
  readonly why: string;
}

/** The identity attacker-kit rows aim at: the one the seed's policy allows. */
const KIT_TARGET = { namespace: 'prod-namespace', serviceAccount: 'order-service-sa' } as const;

export async function rowSource(env: SecurityEnv, from: RowSource): Promise<ProbeSource> {
  if (from === 'plaintext') return { kind: 'plaintext' };
  if (from === 'no-client-cert') return { kind: 'no-client-cert' };
  if (from.startsWith('identity:')) {
    const [namespace, serviceAccount] = from.slice('identity:'.length).split('/') as [string, string];
    return { kind: 'identity', identity: env.ca.spiffeUriOf({ namespace, serviceAccount }) };
  }
  if (from.startsWith('kit:')) return { kind: 'kit', certificate: await makeBadCertificate(env.ca, from.slice('kit:'.length) as BadCertKind, KIT_TARGET) };
  const client = env.mesh.mesh.clients.find((c) => c.client.name === from || c.key === from);
  if (client === undefined) throw new Error(`row source '${from}' is no client of the topology, 'plaintext', 'no-client-cert', 'identity:ns/sa' or 'kit:<kind>'`);
  return { kind: 'participant', name: client.key };
}

/** Runs every row, checks each against its table value and the oracle, and attaches the matrix cells. */
export async function runSpecTable(ctx: CaseContext<SecurityEnv>, table: { readonly to: string; readonly rows: readonly SpecRow[]; readonly what: string }): Promise<LiveProbeResult[]> {
  const env = ctx.env;
  const results: LiveProbeResult[] = [];
  const cells: AuthzMatrixCell[] = [];
  for (const row of table.rows) {
    const result = await env.prober.run({
      source: await rowSource(env, row.from),
      to: row.to ?? table.to,
      ...(row.port === undefined ? {} : { port: row.port }),
      method: row.method,
      path: row.path,
      ...(row.headers === undefined ? {} : { headers: row.headers }),
    });
    holdToTable(result, row.expect, `${row.from} ${row.method} ${row.path} → ${row.to ?? table.to}${row.port === undefined ? '' : `:${row.port}`} (${row.why})`);
    results.push(result);
    cells.push(matrixCell(result));
  }
  ctx.attach('authzMatrix', cells);
  settle(ctx, results, table.what);
  return results;
}

/** A case that is exactly one table: the record, and the function that puts its policies in force and runs the rows. */
export function specTableCase(spec: {
  readonly shortName: string;
  readonly description: string;
  readonly features: readonly Feature[];
  readonly manifests: readonly string[];
  readonly to: string;
  readonly rows: readonly SpecRow[];
  /** Names the table in failure messages. */
  readonly what: string;
  /** Findings or further checks from the results, once every row agreed. */
  readonly then?: (ctx: CaseContext<SecurityEnv>, results: readonly LiveProbeResult[]) => void;
}): ConformanceCase<SecurityEnv> {
  return {
    shortName: spec.shortName,
    description: spec.description,
    area: 'authz',
    features: spec.features,
    manifests: spec.manifests,
    async test(ctx) {
      await ctx.env.use(spec.manifests);
      const results = await runSpecTable(ctx, { to: spec.to, rows: spec.rows, what: spec.what });
      spec.then?.(ctx, results);
    },
  };
}
