/**
 * Small checks shared by the semantic validators: they push an Issue located at a field path.
 */
import { isIP } from 'node:net';
import { parseDuration } from '../duration.ts';
import type { Issue } from '../issues.ts';
import type { DocumentSource, FieldPath } from '../source-map.ts';

export class IssueCollector {
  readonly issues: Issue[] = [];
  private readonly source: DocumentSource;

  constructor(source: DocumentSource) {
    this.source = source;
  }

  error(path: FieldPath, message: string, hint?: string): void {
    this.issues.push({ severity: 'error', message, location: this.source.locate(path), ...(hint === undefined ? {} : { hint }) });
  }

  warning(path: FieldPath, message: string, hint?: string): void {
    this.issues.push({ severity: 'warning', message, location: this.source.locate(path), ...(hint === undefined ? {} : { hint }) });
  }

  /**
   * A duration as Istio's ValidateDuration wants it: at least 1ms and whole milliseconds. With
   * `allowZero`, whatever is 0 in whole milliseconds passes too, as Istio skips the check for it
   * (tcp idleTimeout: 0 disables the timeout).
   */
  duration(path: FieldPath, value: string | undefined, options: { allowZero?: boolean } = {}): number | undefined {
    if (value === undefined || value === null) return undefined;
    const ms = parseDuration(String(value));
    if (ms === undefined) {
      this.error(path, `'${value}' is not a duration`, 'write it like 30s, 1.5s, 100ms or 1m');
      return undefined;
    }
    if (Math.trunc(ms) === 0 && options.allowZero === true) return ms;
    if (ms < 1) this.error(path, `duration must be greater than 1ms, found '${value}'`);
    else if (!Number.isInteger(Math.round(ms * 1e6) / 1e6)) this.error(path, `only durations to ms precision are supported, found '${value}'`);
    return ms;
  }

  nonNegative(path: FieldPath, value: number | undefined): void {
    if (value !== undefined && value < 0) this.error(path, `must not be negative, found ${value}`);
  }

  range(path: FieldPath, value: number | undefined, min: number, max: number): void {
    if (value !== undefined && (value < min || value > max)) this.error(path, `must be between ${min} and ${max}, found ${value}`);
  }
}

/** An IP address or CIDR block, as Istio's `ipBlocks` and `source.ip` accept. */
export function isIpOrCidr(value: string): boolean {
  const [addr, prefix, extra] = value.split('/');
  if (extra !== undefined || addr === undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d+$/.test(prefix)) return false;
  const bits = Number(prefix);
  return bits >= 0 && bits <= (family === 4 ? 32 : 128);
}

export function isPortNumber(value: string): boolean {
  return /^\d+$/.test(value) && Number(value) >= 0 && Number(value) <= 65535;
}
