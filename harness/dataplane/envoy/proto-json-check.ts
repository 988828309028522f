/**
 * A strict reader of the proto3 JSON mapping against Envoy's API definitions: what Envoy does
 * with a YAML/JSON bootstrap before it accepts it (`MessageUtil::loadFromJson` with unknown
 * fields refused, then protoc-gen-validate), minus Envoy's own semantic checks.
 *
 * Checked, each problem reported with the field path from the root of the document:
 * - unknown fields (a field may be written with its proto name or its lowerCamel JSON name, as
 *   protobuf's JSON parser accepts both; writing both is an error);
 * - JSON kinds and ranges of scalars (uint32 ≤ 4294967295, int64 as number or string, …);
 * - enum values by name (or number), `@type` URLs of `google.protobuf.Any` resolved against the
 *   loaded API and their contents checked recursively;
 * - well-known types as the mapping defines them (Duration `"1.5s"`, wrappers as bare scalars,
 *   Struct/Value any JSON, Timestamp RFC 3339);
 * - at most one member of a oneof;
 * - fields marked `deprecated` (Envoy warns, and rejects some by default: never rendered here);
 * - the protoc-gen-validate rules most bootstrap fields carry: `message.required`, `(validate.required)`
 *   on a oneof, `string.min_len/max_len`, numeric `gt/gte/lt/lte`, `enum.defined_only`,
 *   `repeated.min_items/max_items`, `map.min_pairs`, `duration.gt/gte/lt/lte`. Other PGV rules
 *   (header-name regexes, `in` lists, …) are not checked.
 *
 * The same walk returns the document in canonical form (proto field names, default scalars and
 * empty lists dropped, enums by name), so two documents can be compared for meaning: a camelCase
 * Istio output and a snake_case rendering are equal when they say the same thing.
 */
import protobuf from 'protobufjs';
import type { EnvoyApi } from './envoy-api.ts';

export type ProblemKind = 'unknown-field' | 'kind' | 'range' | 'enum' | 'type-url' | 'oneof' | 'constraint' | 'deprecated' | 'duplicate';

export interface ConfigProblem {
  /** Field path from the document root: `static_resources.clusters[0].lb_policy`. */
  readonly path: string;
  readonly kind: ProblemKind;
  readonly message: string;
}

export interface CheckResult {
  readonly problems: readonly ConfigProblem[];
  /** The document in canonical form (meaningful only when there are no problems). */
  readonly canonical: unknown;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Rules = Record<string, Record<string, unknown>>;

const WRAPPERS: Readonly<Record<string, string>> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
};
/** Well-known types whose JSON form is not an object of their fields. */
const SPECIAL_JSON = new Set(['google.protobuf.Duration', 'google.protobuf.Timestamp', 'google.protobuf.FieldMask', 'google.protobuf.Struct', 'google.protobuf.Value', 'google.protobuf.ListValue', ...Object.keys(WRAPPERS)]);

const DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const INTEGER = /^-?\d+$/;
const RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

/** lowerCamelCase as protoc derives `json_name`. */
export function jsonName(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function isObject(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function joinPath(path: string, key: string): string {
  return /^[A-Za-z_@][\w@]*$/.test(key) ? (path === '' ? key : `${path}.${key}`) : `${path}[${JSON.stringify(key)}]`;
}

function stripDot(name: string): string {
  return name.startsWith('.') ? name.slice(1) : name;
}

/** The PGV `(validate.rules)` of a field, merged into one object. */
function rulesOf(field: protobuf.Field): Rules | undefined {
  const parsed = (field as protobuf.Field & { parsedOptions?: Record<string, unknown>[] }).parsedOptions;
  let rules: Rules | undefined;
  for (const option of parsed ?? []) {
    const r = option['(validate.rules)'];
    if (isObject(r)) rules = { ...rules, ...(r as unknown as Rules) };
  }
  return rules;
}

function durationNanos(text: string): bigint | undefined {
  const m = DURATION.exec(text);
  if (m === null) return undefined;
  const nanos = BigInt(m[2] ?? '0') * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0') || '0');
  return m[1] === '-' ? -nanos : nanos;
}

function ruleNanos(bound: unknown): bigint {
  const b = (bound ?? {}) as { seconds?: number | string; nanos?: number };
  return BigInt(b.seconds ?? 0) * 1_000_000_000n + BigInt(b.nanos ?? 0);
}

const jsonNames = new WeakMap<protobuf.Type, Map<string, protobuf.Field>>();

function fieldByName(type: protobuf.Type, key: string): protobuf.Field | undefined {
  const direct = type.fields[key];
  if (direct !== undefined) return direct;
  let byJson = jsonNames.get(type);
  if (byJson === undefined) {
    byJson = new Map(type.fieldsArray.map((f) => [jsonName(f.name), f]));
    jsonNames.set(type, byJson);
  }
  return byJson.get(key);
}

class Walker {
  readonly problems: ConfigProblem[] = [];
  readonly #api: EnvoyApi;

  constructor(api: EnvoyApi) {
    this.#api = api;
  }

  problem(path: string, kind: ProblemKind, message: string): undefined {
    this.problems.push({ path: path === '' ? '(root)' : path, kind, message });
    return undefined;
  }

  message(type: protobuf.Type, value: unknown, path: string): unknown {
    type.resolveAll();
    const name = stripDot(type.fullName);
    if (SPECIAL_JSON.has(name) || name === 'google.protobuf.Any' || name === 'google.protobuf.Empty') return this.wellKnown(name, value, path);
    if (value === null) return null;
    if (!isObject(value)) return this.problem(path, 'kind', `expected an object (message ${name}), found ${describeKind(value)}`);
    const out: Record<string, unknown> = {};
    const seen = new Map<string, string>();
    for (const [key, fieldValue] of Object.entries(value)) {
      const fieldPath = joinPath(path, key);
      const field = fieldByName(type, key);
      if (field === undefined) {
        this.problem(fieldPath, 'unknown-field', `unknown field '${key}' in ${name}${suggest(key, type)}`);
        continue;
      }
      const earlier = seen.get(field.name);
      if (earlier !== undefined) {
        this.problem(fieldPath, 'duplicate', `field ${field.name} is set twice in ${name} (as '${earlier}' and '${key}')`);
        continue;
      }
      seen.set(field.name, key);
      const canonical = this.field(field, fieldValue, fieldPath, name);
      if (canonical !== undefined && !isDefault(field, canonical)) out[field.name] = canonical;
    }
    for (const oneof of type.oneofsArray) {
      const set = oneof.fieldsArray.filter((f) => value[f.name] !== undefined && value[f.name] !== null || value[jsonName(f.name)] !== undefined && value[jsonName(f.name)] !== null);
      if (set.length > 1) this.problem(path, 'oneof', `${set.map((f) => f.name).join(' and ')} are members of oneof ${oneof.name} in ${name}: set only one`);
      const required = (oneof.options as Record<string, unknown> | undefined)?.['(validate.required)'] === true;
      if (required && set.length === 0) this.problem(path, 'constraint', `one of ${oneof.fieldsArray.map((f) => f.name).join(', ')} is required in ${name} (oneof ${oneof.name})`);
    }
    for (const field of type.fieldsArray) {
      // PGV checks a oneof member's rules only when that member is the one set.
      if ((field.partOf === null || field.partOf === undefined) && rulesOf(field)?.['message']?.['required'] === true && (value[field.name] ?? value[jsonName(field.name)] ?? null) === null) {
        this.problem(joinPath(path, field.name), 'constraint', `required field ${field.name} of ${name} is missing`);
      }
    }
    return out;
  }

  field(field: protobuf.Field, value: Json, path: string, owner: string): unknown {
    if (field.options?.['deprecated'] === true) this.problem(path, 'deprecated', `${owner}.${field.name} is deprecated in Envoy's API; use its replacement`);
    if (value === null) return undefined;
    const rules = rulesOf(field);
    if (field.map) {
      const keyType = (field as unknown as protobuf.MapField).keyType;
      if (!isObject(value)) return this.problem(path, 'kind', `expected an object (map<${keyType}, ${field.type}>), found ${describeKind(value)}`);
      const out: Record<string, unknown> = {};
      const entries = Object.entries(value);
      const minPairs = Number(rules?.['map']?.['min_pairs'] ?? 0);
      if (entries.length < minPairs) this.problem(path, 'constraint', `needs at least ${minPairs} entries, has ${entries.length}`);
      for (const [key, v] of entries) {
        if (keyType !== 'string' && keyType !== 'bool' && !INTEGER.test(key)) this.problem(joinPath(path, key), 'kind', `map key must be a ${keyType}, found '${key}'`);
        const canonical = this.value(field, v, joinPath(path, key), undefined);
        if (canonical !== undefined) out[key] = canonical;
      }
      return Object.keys(out).length === 0 ? undefined : out;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) return this.problem(path, 'kind', `expected a list (repeated ${stripDot(field.resolvedType?.fullName ?? field.type)}), found ${describeKind(value)}`);
      const min = Number(rules?.['repeated']?.['min_items'] ?? 0);
      const max = rules?.['repeated']?.['max_items'];
      if (value.length < min) this.problem(path, 'constraint', `needs at least ${min} item${min === 1 ? '' : 's'}, has ${value.length}`);
      if (max !== undefined && value.length > Number(max)) this.problem(path, 'constraint', `allows at most ${Number(max)} items, has ${value.length}`);
      const items = value.map((item, i) => this.value(field, item, `${path}[${i}]`, rules));
      return items.length === 0 ? undefined : items;
    }
    return this.value(field, value, path, rules);
  }

  value(field: protobuf.Field, value: Json, path: string, rules: Rules | undefined): unknown {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      const canonical = this.message(resolved, value, path);
      const wrapped = WRAPPERS[stripDot(resolved.fullName)];
      if (wrapped !== undefined && canonical !== undefined && canonical !== null) this.scalarRules(wrapped, canonical, path, rules);
      if (stripDot(resolved.fullName) === 'google.protobuf.Duration' && typeof value === 'string') this.durationRules(value, path, rules);
      return canonical;
    }
    if (resolved instanceof protobuf.Enum) return this.enumValue(resolved, value, path, rules);
    const canonical = this.scalar(field.type, value, path);
    if (canonical !== undefined) this.scalarRules(field.type, canonical, path, rules);
    return canonical;
  }

  enumValue(type: protobuf.Enum, value: Json, path: string, rules: Rules | undefined): unknown {
    const name = stripDot(type.fullName);
    if (name === 'google.protobuf.NullValue') return null;
    if (typeof value === 'string') {
      if (!(value in type.values)) return this.problem(path, 'enum', `'${value}' is not a value of enum ${name} (values: ${Object.keys(type.values).join(', ')})`);
      if ((type.valuesOptions?.[value] as Record<string, unknown> | undefined)?.['deprecated'] === true) this.problem(path, 'deprecated', `enum value ${name}.${value} is deprecated`);
      return value;
    }
    if (typeof value === 'number' && Number.isInteger(value)) {
      const known = Object.entries(type.values).find(([, n]) => n === value)?.[0];
      if (known === undefined && rules?.['enum']?.['defined_only'] === true) return this.problem(path, 'enum', `${value} is not a defined value of enum ${name}`);
      return known ?? value;
    }
    return this.problem(path, 'kind', `expected an enum ${name} name, found ${describeKind(value)}`);
  }

  scalar(type: string, value: Json, path: string): unknown {
    switch (type) {
      case 'bool':
        return typeof value === 'boolean' ? value : this.problem(path, 'kind', `expected true or false, found ${describeKind(value)}`);
      case 'string':
        return typeof value === 'string' ? value : this.problem(path, 'kind', `expected a string, found ${describeKind(value)}`);
      case 'bytes':
        return typeof value === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value) ? value : this.problem(path, 'kind', `expected base64 bytes, found ${describeKind(value)}`);
      case 'double':
      case 'float':
        if (typeof value === 'number' && Number.isFinite(value)) return value;
        if (typeof value === 'string' && (['NaN', 'Infinity', '-Infinity'].includes(value) || (value.trim() !== '' && Number.isFinite(Number(value))))) return Number(value);
        return this.problem(path, 'kind', `expected a number, found ${describeKind(value)}`);
      default: {
        const range = RANGES[type];
        if (range === undefined) return this.problem(path, 'kind', `unsupported scalar type ${type}`);
        let n: bigint;
        if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value);
        else if (typeof value === 'string' && INTEGER.test(value)) n = BigInt(value);
        else return this.problem(path, 'kind', `expected an integer (${type}), found ${describeKind(value)}`);
        if (n < range[0] || n > range[1]) return this.problem(path, 'range', `${n} is out of range for ${type} (${range[0]} to ${range[1]})`);
        return Number(n) <= Number.MAX_SAFE_INTEGER && Number(n) >= Number.MIN_SAFE_INTEGER ? Number(n) : n.toString();
      }
    }
  }

  scalarRules(type: string, value: unknown, path: string, rules: Rules | undefined): void {
    if (rules === undefined) return;
    if (type === 'string' && typeof value === 'string') {
      const r = rules['string'];
      if (r?.['min_len'] !== undefined && [...value].length < Number(r['min_len'])) this.problem(path, 'constraint', `must be at least ${Number(r['min_len'])} character${Number(r['min_len']) === 1 ? '' : 's'} long`);
      if (r?.['max_len'] !== undefined && [...value].length > Number(r['max_len'])) this.problem(path, 'constraint', `must be at most ${Number(r['max_len'])} characters long`);
      return;
    }
    const r = rules[type === 'fixed32' ? 'fixed32' : type];
    if (r === undefined || (typeof value !== 'number' && typeof value !== 'string')) return;
    const n = Number(value);
    const check = (op: string, ok: (bound: number) => boolean, words: string): void => {
      if (r[op] !== undefined && !ok(Number(r[op]))) this.problem(path, 'constraint', `must be ${words} ${Number(r[op])}, found ${n}`);
    };
    check('gt', (b) => n > b, 'greater than');
    check('gte', (b) => n >= b, 'at least');
    check('lt', (b) => n < b, 'less than');
    check('lte', (b) => n <= b, 'at most');
  }

  durationRules(text: string, path: string, rules: Rules | undefined): void {
    const r = rules?.['duration'];
    const nanos = durationNanos(text);
    if (r === undefined || nanos === undefined) return;
    const check = (op: string, ok: (bound: bigint) => boolean, words: string): void => {
      if (r[op] !== undefined && !ok(ruleNanos(r[op]))) this.problem(path, 'constraint', `must be ${words} ${Number(ruleNanos(r[op])) / 1e9}s, found ${text}`);
    };
    check('gt', (b) => nanos > b, 'longer than');
    check('gte', (b) => nanos >= b, 'at least');
    check('lt', (b) => nanos < b, 'shorter than');
    check('lte', (b) => nanos <= b, 'at most');
  }

  wellKnown(name: string, value: unknown, path: string): unknown {
    if (value === null && name !== 'google.protobuf.Value') return null;
    switch (name) {
      case 'google.protobuf.Duration': {
        const nanos = typeof value === 'string' ? durationNanos(value) : undefined;
        if (nanos === undefined) return this.problem(path, 'kind', `expected a duration such as "1.5s", found ${describeKind(value)}`);
        if (nanos > 315_576_000_000n * 1_000_000_000n || nanos < -315_576_000_000n * 1_000_000_000n) return this.problem(path, 'range', `duration ${String(value)} is out of range`);
        return `${Number(nanos) / 1e9}s`;
      }
      case 'google.protobuf.Timestamp':
        return typeof value === 'string' && TIMESTAMP.test(value) ? value : this.problem(path, 'kind', `expected an RFC 3339 timestamp, found ${describeKind(value)}`);
      case 'google.protobuf.FieldMask':
        return typeof value === 'string' ? value : this.problem(path, 'kind', `expected a field mask string, found ${describeKind(value)}`);
      case 'google.protobuf.Struct':
        return isObject(value) ? value : this.problem(path, 'kind', `expected an object (google.protobuf.Struct), found ${describeKind(value)}`);
      case 'google.protobuf.ListValue':
        return Array.isArray(value) ? value : this.problem(path, 'kind', `expected a list (google.protobuf.ListValue), found ${describeKind(value)}`);
      case 'google.protobuf.Value':
        return value;
      case 'google.protobuf.Empty':
        if (!isObject(value)) return this.problem(path, 'kind', `expected {} (google.protobuf.Empty), found ${describeKind(value)}`);
        for (const key of Object.keys(value)) this.problem(joinPath(path, key), 'unknown-field', `unknown field '${key}' in google.protobuf.Empty`);
        return {};
      case 'google.protobuf.Any':
        return this.any(value, path);
      default: {
        const scalar = WRAPPERS[name];
        if (scalar === undefined) return this.problem(path, 'kind', `no JSON reading for ${name}`);
        return this.scalar(scalar, value as Json, path);
      }
    }
  }

  any(value: unknown, path: string): unknown {
    if (!isObject(value)) return this.problem(path, 'kind', `expected an object with "@type" (google.protobuf.Any), found ${describeKind(value)}`);
    const url = value['@type'];
    const urlPath = joinPath(path, '@type');
    if (typeof url !== 'string' || url === '') return this.problem(urlPath, 'type-url', 'google.protobuf.Any needs "@type": type.googleapis.com/<message full name>');
    const type = this.#api.messageForTypeUrl(url);
    if (type === undefined || !url.includes('/')) return this.problem(urlPath, 'type-url', `unknown @type '${url}': no message of that name in Envoy's API`);
    const name = stripDot(type.fullName);
    const { '@type': _url, ...rest } = value;
    if (SPECIAL_JSON.has(name)) {
      for (const key of Object.keys(rest)) if (key !== 'value') this.problem(joinPath(path, key), 'unknown-field', `an Any holding ${name} has only "@type" and "value"`);
      return { '@type': url, value: this.wellKnown(name, rest['value'] ?? null, joinPath(path, 'value')) };
    }
    const canonical = this.message(type, rest, path);
    return { '@type': url, ...(canonical as Record<string, unknown> | undefined) };
  }
}

/** `; did you mean 'x'?` for the nearest field name, or the field list of a small message. */
function suggest(key: string, type: protobuf.Type): string {
  const names = type.fieldsArray.map((f) => f.name);
  const wanted = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const scored = names.map((n) => ({ n, d: wanted.startsWith(n) || n.startsWith(wanted) ? 0 : editDistance(wanted, n) })).sort((a, b) => a.d - b.d);
  const best = scored[0];
  if (best !== undefined && best.d <= Math.max(2, Math.floor(wanted.length / 4))) return `; did you mean '${best.n}'?`;
  return names.length <= 12 ? ` (fields: ${names.join(', ')})` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min((prev[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = next;
  }
  return prev[b.length] ?? 0;
}

function isDefault(field: protobuf.Field, value: unknown): boolean {
  if (field.map || field.repeated) return false;
  if (field.partOf !== null && field.partOf !== undefined) return false;
  if (field.resolvedType instanceof protobuf.Type) return false;
  if (field.resolvedType instanceof protobuf.Enum) return value === 0 || field.resolvedType.values[String(value)] === 0;
  return value === 0 || value === '' || value === false || value === '0';
}

/** Checks `document` as a JSON form of the message `typeName` (full name, no leading dot). */
export function checkProtoJson(api: EnvoyApi, typeName: string, document: unknown, basePath = ''): CheckResult {
  const type = api.message(typeName);
  const walker = new Walker(api);
  if (type === undefined) {
    walker.problem(basePath, 'type-url', `no message ${typeName} in Envoy's API`);
    return { problems: walker.problems, canonical: undefined };
  }
  const canonical = walker.message(type, document, basePath);
  return { problems: walker.problems, canonical };
}

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.path}: ${problem.message}`;
}
