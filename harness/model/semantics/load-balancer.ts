/**
 * A DestinationRule's loadBalancer, as Istio validates it (validation.go validateLoadBalancer;
 * agent/validation.go ValidateLocalityLbSetting and validateLocalities).
 */
import type { FieldPath } from '../source-map.ts';
import type { IssueCollector } from './checks.ts';

type Obj = Readonly<Record<string, unknown>>;
const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
const TOPOLOGY_LABELS = new Set(['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone']);

/** Envoy's isPrime (as Istio copies it): 1, 2 and 3 count as prime. */
function isPrime(x: number): boolean {
  if (x !== 0 && x < 4) return true;
  if (x % 2 === 0) return false;
  for (let f = 3; f <= Math.floor(Math.sqrt(x)); f += 2) if (x % f === 0) return false;
  return true;
}

/** validateLocalities: `region[/zone[/subzone]]`, one trailing `*` at most, no overlap. The problem, or undefined. */
function localitiesProblem(localities: readonly string[]): string | undefined {
  // region → zone → subzone; `*` keys stand for "everything below".
  const tree = new Map<string, Map<string, Set<string>>>();
  for (const locality of localities) {
    const stars = locality.split('*').length - 1;
    if (stars > 1 || (stars === 1 && !locality.endsWith('*'))) return `locality ${locality} wildcard '*' number can not exceed 1 and must be in the end`;
    const overlap = `locality ${locality} overlap with previous specified ones`;
    if (tree.has('*')) return overlap;
    const first = locality.indexOf('/');
    const second = first === -1 ? -1 : locality.indexOf('/', first + 1);
    const parts = first === -1 ? [locality] : second === -1 ? [locality.slice(0, first), locality.slice(first + 1)] : [locality.slice(0, first), locality.slice(first + 1, second), locality.slice(second + 1)];
    if (parts.some((p) => p === '')) return `locality ${locality} must not contain empty region/zone/subzone info`;
    const [region = '', zone = '', subzone = ''] = parts;
    const zones = tree.get(region);
    if (parts.length === 1) {
      if (zones !== undefined) return overlap;
      tree.set(region, new Map([['*', new Set(['*'])]]));
    } else if (parts.length === 2) {
      if (zones === undefined) tree.set(region, new Map([[zone, new Set(['*'])]]));
      else if (zones.has('*') || zones.has(zone)) return overlap;
      else zones.set(zone, new Set(['*']));
    } else if (zones === undefined) {
      tree.set(region, new Map([[zone, new Set([subzone])]]));
    } else {
      if (zones.has('*')) return overlap;
      const subzones = zones.get(zone);
      if (subzones === undefined) zones.set(zone, new Set([subzone]));
      else if (subzones.has('*') || subzones.has(subzone)) return overlap;
      else subzones.add(subzone);
    }
  }
  return undefined;
}

function validateLocalityLb(c: IssueCollector, at: FieldPath, lb: Obj, hasOutlierDetection: boolean): void {
  const distribute = list(lb['distribute']).map(obj);
  const failover = list(lb['failover']).map(obj);
  const priority = list(lb['failoverPriority']).map(String);
  if (distribute.length > 0 && failover.length > 0) return c.error(at, "can not simultaneously specify 'distribute' and 'failover'");
  if (failover.length > 0) {
    const label = priority.find((p) => TOPOLOGY_LABELS.has(p));
    if (label !== undefined) return c.error([...at, 'failoverPriority'], `can not simultaneously set 'failover' and topology label '${label}' in 'failover_priority'`);
  }
  const sources: string[] = [];
  for (const [i, d] of distribute.entries()) {
    sources.push(String(d?.['from'] ?? ''));
    const to = obj(d?.['to']) ?? {};
    const weights = Object.values(to).map(Number);
    if (weights.some((w) => !(w > 0 && w <= 100))) return c.error([...at, 'distribute', i, 'to'], 'locality weight must be in range [1, 100]');
    const total = weights.reduce((a, b) => a + b, 0);
    if (total !== 100) return c.error([...at, 'distribute', i, 'to'], `total locality weight ${total} != 100`);
    const problem = localitiesProblem(Object.keys(to));
    if (problem !== undefined) c.error([...at, 'distribute', i, 'to'], problem);
  }
  const problem = localitiesProblem(sources);
  if (problem !== undefined) c.error([...at, 'distribute'], problem);
  if ((failover.length > 0 || priority.length > 0) && !hasOutlierDetection) c.warning(at, 'outlier detection policy must be provided for failover', 'without outlierDetection no endpoint is ever unhealthy, so failover never happens');
  failover.forEach((f, i) => {
    const from = String(f?.['from'] ?? '');
    const to = String(f?.['to'] ?? '');
    const p = [...at, 'failover', i];
    if (from === to) c.error(p, 'locality lb failover settings must specify different regions');
    if (from.includes('/') || to.includes('/')) c.error(p, 'locality lb failover only specify region');
    if (from.includes('*') || to.includes('*')) c.error(p, "locality lb failover region should not contain '*' wildcard");
  });
}

export function validateLoadBalancer(c: IssueCollector, at: FieldPath, settings: unknown, hasOutlierDetection: boolean): void {
  const lb = obj(settings);
  if (lb === undefined) return;
  const hash = obj(lb['consistentHash']);
  if (hash !== undefined) {
    const h = [...at, 'consistentHash'];
    const cookie = obj(hash['httpCookie']);
    if (cookie !== undefined && (cookie['name'] === undefined || cookie['name'] === '')) c.error([...h, 'httpCookie', 'name'], 'name required for HttpCookie');
    const names = new Set<string>();
    list(cookie?.['attributes']).forEach((a, i) => {
      const name = String(obj(a)?.['name'] ?? '');
      if (name === '') c.error([...h, 'httpCookie', 'attributes', i, 'name'], 'cookie attribute name cannot be empty');
      else if (names.has(name)) c.error([...h, 'httpCookie', 'attributes', i, 'name'], `duplicate cookie attribute name: ${name}`);
      else names.add(name);
    });
    const minRing = Number(hash['minimumRingSize'] ?? 0);
    if (minRing !== 0) {
      c.warning([...h, 'minimumRingSize'], "consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead");
      if (hash['ringHash'] !== undefined || hash['maglev'] !== undefined) c.error([...h, 'minimumRingSize'], 'only one of MinimumRingSize or Maglev/Ringhash can be specified');
    }
    const maglev = obj(hash['maglev']);
    if (maglev !== undefined) {
      const size = Number(maglev['tableSize'] ?? 0);
      const p = [...h, 'maglev', 'tableSize'];
      if (size === 0) c.error(p, 'tableSize must be set for maglev');
      if (size >= 5000011) c.error(p, 'tableSize must be less than 5000011 for maglev');
      if (!isPrime(size)) c.error(p, 'tableSize must be a prime number for maglev');
    }
  }
  const locality = obj(lb['localityLbSetting']);
  if (locality !== undefined) validateLocalityLb(c, [...at, 'localityLbSetting'], locality, hasOutlierDetection);
  const warmup = obj(lb['warmup']);
  if (warmup !== undefined) {
    const w = [...at, 'warmup'];
    if (warmup['duration'] === undefined) c.error(w, 'duration is required');
    else c.duration([...w, 'duration'], String(warmup['duration']));
    if (Number(obj(warmup['minimumPercent'])?.['value'] ?? warmup['minimumPercent'] ?? 0) > 100) c.error([...w, 'minimumPercent'], 'minimumPercent value should be less than or equal to 100');
    const aggression = warmup['aggression'];
    if (aggression !== undefined && aggression !== null && Number(obj(aggression)?.['value'] ?? aggression) < 1) c.error([...w, 'aggression'], 'aggression should be greater than or equal to 1');
  }
}
