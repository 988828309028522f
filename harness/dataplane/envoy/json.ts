/** The JSON shapes the renderer builds: plain objects, in Envoy's proto field names (snake_case). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue | undefined;
}

/** `type.googleapis.com/<name>`: the `@type` of an Any. */
export function typeUrl(fullName: string): string {
  return `type.googleapis.com/${fullName}`;
}

/** An object without its undefined members (so optional parts can be written inline). */
export function compact<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
