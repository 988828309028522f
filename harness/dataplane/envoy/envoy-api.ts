/**
 * Envoy's v3 API definitions, loaded from the `.proto` files that @grpc/grpc-js-xds ships
 * (`deps/envoy-api`, `deps/xds`, `deps/googleapis`, `deps/protoc-gen-validate`; the gRPC team
 * keeps them as git submodules of envoyproxy/data-plane-api and cncf/xds). protobufjs parses them;
 * the well-known types (Any, Duration, Struct, wrappers) come with protobufjs.
 *
 * Loaded: every file in a `v3*` package whose imports can all be found (5 of the package's 350
 * such files import OpenCensus/OpenTelemetry protos the package does not ship: tracers and the
 * OpenTelemetry access logger, none of which a sidecar bootstrap here uses). Loading takes about
 * half a second, so the API is loaded once per process and shared.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import protobuf from 'protobufjs';
import { ErrorCode, MeshproofError } from '../../errors.ts';

const require = createRequire(import.meta.url);
const TYPE_URL_PREFIX = 'type.googleapis.com/';

export interface EnvoyApiSource {
  /** The npm package the protos come from, with its version. */
  readonly package: string;
  readonly protoFiles: number;
  /** Files left out because an import is missing from the package. */
  readonly skipped: readonly string[];
  readonly loadMs: number;
}

export class EnvoyApi {
  readonly root: protobuf.Root;
  readonly source: EnvoyApiSource;

  constructor(root: protobuf.Root, source: EnvoyApiSource) {
    this.root = root;
    this.source = source;
  }

  /** The message type named `fullName` (no leading dot), or undefined. */
  message(fullName: string): protobuf.Type | undefined {
    const found = this.root.lookup(fullName);
    return found instanceof protobuf.Type ? found : undefined;
  }

  /** The message an `@type` URL names (`type.googleapis.com/<full name>`), or undefined. */
  messageForTypeUrl(url: string): protobuf.Type | undefined {
    const slash = url.lastIndexOf('/');
    if (slash < 0) return undefined;
    return this.message(url.slice(slash + 1));
  }

  static typeUrl(fullName: string): string {
    return `${TYPE_URL_PREFIX}${fullName}`;
  }
}

let shared: EnvoyApi | undefined;

/** The shared, lazily loaded API. */
export function envoyApi(): EnvoyApi {
  shared ??= loadEnvoyApi();
  return shared;
}

function protoRoots(): { packageName: string; includes: string[]; envoyDir: string } {
  let pkgJson: string;
  try {
    pkgJson = require.resolve('@grpc/grpc-js-xds/package.json');
  } catch (cause) {
    throw new MeshproofError(ErrorCode.Internal, "cannot find the package '@grpc/grpc-js-xds', which holds Envoy's API definitions", { cause, hint: 'run npm ci' });
  }
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const deps = join(dirname(pkgJson), 'deps');
  const protobufDir = dirname(require.resolve('protobufjs/package.json'));
  return {
    packageName: `@grpc/grpc-js-xds@${version}`,
    // protobufjs itself holds google/protobuf/descriptor.proto, which the annotation protos import.
    includes: [...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d)), protobufDir],
    envoyDir: join(deps, 'envoy-api'),
  };
}

function protoFilesUnder(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) protoFilesUnder(path, out);
    else if (entry.name.endsWith('.proto')) out.push(path);
  }
  return out;
}

const IMPORT = /^import\s+(?:public\s+|weak\s+)?"([^"]+)";/gm;

export function loadEnvoyApi(): EnvoyApi {
  const started = performance.now();
  const { packageName, includes, envoyDir } = protoRoots();
  const find = (name: string): string | undefined => includes.map((inc) => join(inc, name)).find((p) => existsSync(p));
  const builtIn = (name: string): boolean => name.startsWith('google/protobuf/') && protobuf.common.get(name) !== null;
  const complete = new Map<string, boolean>();
  const importsResolve = (name: string, visiting: Set<string>): boolean => {
    const known = complete.get(name);
    if (known !== undefined) return known;
    if (visiting.has(name) || builtIn(name)) return true;
    const path = find(name);
    if (path === undefined) {
      complete.set(name, false);
      return false;
    }
    visiting.add(name);
    const ok = [...readFileSync(path, 'utf8').matchAll(IMPORT)].every((m) => importsResolve(m[1] ?? '', visiting));
    visiting.delete(name);
    complete.set(name, ok);
    return ok;
  };
  const candidates = protoFilesUnder(join(envoyDir, 'envoy'))
    .map((p) => relative(envoyDir, p))
    .filter((p) => /\/v3[^/]*\/[^/]+\.proto$/.test(p))
    .sort();
  const usable = candidates.filter((p) => importsResolve(p, new Set()));
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => find(target) ?? target;
  try {
    root.loadSync(usable, { keepCase: true });
    root.resolveAll();
  } catch (cause) {
    throw new MeshproofError(ErrorCode.Internal, `loading Envoy's API definitions from ${packageName} failed: ${(cause as Error).message}`, { cause });
  }
  return new EnvoyApi(root, {
    package: packageName,
    protoFiles: usable.length,
    skipped: candidates.filter((p) => !usable.includes(p)),
    loadMs: performance.now() - started,
  });
}
