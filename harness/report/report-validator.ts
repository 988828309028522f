/**
 * report.schema.json, compiled once with ajv: validates whole reports (tests, and readers who
 * want to check a report.json) and the structured attachments cases hand the report builder.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

export const REPORT_SCHEMA_PATH = new URL('./report.schema.json', import.meta.url);

const schema = JSON.parse(readFileSync(REPORT_SCHEMA_PATH, 'utf8')) as { $id: string; $defs: Record<string, unknown> };

// ajv-formats is CommonJS: its default export arrives as the module object under some loaders.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }));
ajv.addSchema(schema);

const cache = new Map<string, ValidateFunction>();

function validator(ref: string): ValidateFunction {
  let fn = cache.get(ref);
  if (fn === undefined) {
    fn = ajv.getSchema(ref);
    if (fn === undefined) throw new Error(`report.schema.json has no ${ref}`);
    cache.set(ref, fn);
  }
  return fn;
}

export function formatSchemaErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath === '' ? '(top)' : e.instancePath}: ${e.message ?? 'invalid'}${e.params !== undefined && Object.keys(e.params).length > 0 ? ` ${JSON.stringify(e.params)}` : ''}`);
}

/** Problems of a whole report against report.schema.json; empty when it is valid. */
export function validateReport(value: unknown): string[] {
  const fn = validator(schema.$id);
  return fn(value) ? [] : formatSchemaErrors(fn.errors);
}

/** Problems of a value against one definition of the schema (`tlsCheckRow`, `ejectionTimeline`, …). */
export function validateDefinition(definition: string, value: unknown): string[] {
  if (!(definition in schema.$defs)) throw new Error(`report.schema.json has no definition '${definition}'`);
  const fn = validator(`${schema.$id}#/$defs/${definition}`);
  return fn(value) ? [] : formatSchemaErrors(fn.errors);
}
