/**
 * Typed errors with stable codes (in the manner of undici's error classes).
 *
 * Every error the harness raises on purpose is a MeshproofError. Its `kind` decides how it
 * surfaces: `input` (bad policy, flag or file: exit code 2), `infrastructure` (Docker down,
 * image missing, container crashed: exit code 3, and a case outcome of `error`, never
 * `failed`), or `internal` (a bug in meshproof).
 *
 * Messages say what was expected, what was found, and where. `hint` says what to do.
 */

export const ErrorCode = {
  /** No container engine answers, or it stopped answering mid-run. */
  RuntimeUnavailable: 'MESHPROOF_ERR_RUNTIME_UNAVAILABLE',
  /** A container image could not be built from its recipe. */
  ImageBuild: 'MESHPROOF_ERR_IMAGE_BUILD',
  /** A container or pod did not start or did not become ready in time. */
  ContainerStart: 'MESHPROOF_ERR_CONTAINER_START',
  /** A runtime operation (exec, pause, disconnect, …) failed. */
  RuntimeOperation: 'MESHPROOF_ERR_RUNTIME_OPERATION',
  /** A Unix socket path on the host would pass the kernel's length limit (a run folder too deep). */
  SocketPath: 'MESHPROOF_ERR_SOCKET_PATH',
  /** Node.js is older than the project supports. */
  NodeVersion: 'MESHPROOF_ERR_NODE_VERSION',
  /** A policy file is not valid YAML, not a valid Istio resource, or breaks Istio's rules. */
  PolicyInvalid: 'MESHPROOF_ERR_POLICY_INVALID',
  /** A command-line flag or argument is wrong. */
  BadArgument: 'MESHPROOF_ERR_BAD_ARGUMENT',
  /** A file the user named is missing or unreadable. */
  FileNotFound: 'MESHPROOF_ERR_FILE_NOT_FOUND',
  /** CA material is unusable: missing file, key not matching certificate, expired CA, … */
  PkiInvalid: 'MESHPROOF_ERR_PKI_INVALID',
  /** The CA refused a certificate signing request (identity does not match the credential). */
  CsrRejected: 'MESHPROOF_ERR_CSR_REJECTED',
  /** A rendered data-plane config failed its static check. */
  ConfigInvalid: 'MESHPROOF_ERR_CONFIG_INVALID',
  /** A condition polled with awaitConvergence did not hold within its named timeout. */
  ConvergenceTimeout: 'MESHPROOF_ERR_CONVERGENCE_TIMEOUT',
  /** An operation ran past its named timeout. */
  Timeout: 'MESHPROOF_ERR_TIMEOUT',
  /** A feature meshproof does not implement was asked for. */
  NotSupported: 'MESHPROOF_ERR_NOT_SUPPORTED',
  /** A probe's own client failed before it sent anything (no evidence about the server). */
  ProbeClient: 'MESHPROOF_ERR_PROBE_CLIENT',
  /** The pod network could not be captured, or a capture could not be read. */
  WireCapture: 'MESHPROOF_ERR_WIRE_CAPTURE',
  /** A timing check's margin (from the machine's measured scheduling jitter) is too wide to tell the right duration from the wrong one here. */
  TimingMargin: 'MESHPROOF_ERR_TIMING_MARGIN',
  /** A bug in meshproof itself. */
  Internal: 'MESHPROOF_ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type ErrorKind = 'input' | 'infrastructure' | 'internal';

const kindOf: Record<ErrorCode, ErrorKind> = {
  MESHPROOF_ERR_RUNTIME_UNAVAILABLE: 'infrastructure',
  MESHPROOF_ERR_IMAGE_BUILD: 'infrastructure',
  MESHPROOF_ERR_CONTAINER_START: 'infrastructure',
  MESHPROOF_ERR_RUNTIME_OPERATION: 'infrastructure',
  MESHPROOF_ERR_SOCKET_PATH: 'infrastructure',
  MESHPROOF_ERR_NODE_VERSION: 'infrastructure',
  MESHPROOF_ERR_POLICY_INVALID: 'input',
  MESHPROOF_ERR_BAD_ARGUMENT: 'input',
  MESHPROOF_ERR_FILE_NOT_FOUND: 'input',
  MESHPROOF_ERR_PKI_INVALID: 'input',
  MESHPROOF_ERR_CSR_REJECTED: 'input',
  MESHPROOF_ERR_CONFIG_INVALID: 'internal',
  MESHPROOF_ERR_CONVERGENCE_TIMEOUT: 'infrastructure',
  MESHPROOF_ERR_TIMEOUT: 'infrastructure',
  MESHPROOF_ERR_NOT_SUPPORTED: 'input',
  MESHPROOF_ERR_PROBE_CLIENT: 'infrastructure',
  MESHPROOF_ERR_WIRE_CAPTURE: 'infrastructure',
  MESHPROOF_ERR_TIMING_MARGIN: 'infrastructure',
  MESHPROOF_ERR_INTERNAL: 'internal',
};

/** Where in a user's file a problem is. Lines and columns are 1-based. */
export interface SourceLocation {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  /** Dotted field path inside the resource, e.g. `spec.rules[0].to[0].operation.methods`. */
  readonly field?: string;
}

export interface MeshproofErrorOptions {
  readonly hint?: string;
  readonly location?: SourceLocation;
  readonly cause?: unknown;
}

export class MeshproofError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly location: SourceLocation | undefined;

  constructor(code: ErrorCode, message: string, options: MeshproofErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshproofError';
    this.code = code;
    this.kind = kindOf[code];
    this.hint = options.hint;
    this.location = options.location;
  }

  /** `file:line:column: field: message` when a location is known, else the message. */
  override toString(): string {
    return `${this.code}: ${formatLocation(this.location)}${this.message}`;
  }
}

export function formatLocation(location: SourceLocation | undefined): string {
  if (location === undefined) return '';
  let where = location.file;
  if (location.line !== undefined) where += `:${location.line}`;
  if (location.line !== undefined && location.column !== undefined) where += `:${location.column}`;
  if (location.field !== undefined) where += `: ${location.field}`;
  return `${where}: `;
}

export function isMeshproofError(value: unknown, code?: ErrorCode): value is MeshproofError {
  return value instanceof MeshproofError && (code === undefined || value.code === code);
}

/** The hint an error carries, as the fields an error outcome (spec/outcome.ts) adds (none when it has none). */
export function hintOf(error: unknown): { readonly hint?: string } {
  return isMeshproofError(error) && error.hint !== undefined ? { hint: error.hint } : {};
}

/** Process exit codes of the CLI. */
export const ExitCode = {
  Ok: 0,
  ConformanceFailure: 1,
  BadInput: 2,
  Infrastructure: 3,
} as const;

export function exitCodeFor(error: unknown): number {
  if (!(error instanceof MeshproofError)) return ExitCode.Infrastructure;
  if (error.kind === 'input') return ExitCode.BadInput;
  return ExitCode.Infrastructure;
}

/** Renders an error for a person: message, location, hint, and the code to search for. */
export function describeError(error: unknown): string {
  if (error instanceof MeshproofError) {
    const lines = [`error: ${formatLocation(error.location)}${error.message}`];
    if (error.hint !== undefined) lines.push(`hint: ${error.hint}`);
    lines.push(`code: ${error.code}`);
    return lines.join('\n');
  }
  if (error instanceof Error) return `error: ${error.message}\ncode: ${ErrorCode.Internal}`;
  return `error: ${String(error)}\ncode: ${ErrorCode.Internal}`;
}
