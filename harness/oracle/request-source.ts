/**
 * Who a request comes from, as people write it on the command line and in intent files:
 * `plaintext`, `namespace/serviceaccount`, `trustdomain/ns/x/sa/y` or `spiffe://…`.
 */
import { ErrorCode, MeshproofError, type SourceLocation } from '../errors.ts';
import { principalOf } from '../model/identity.ts';
import type { RequestSource } from './inbound.ts';

/** `what` names the flag or field in the error (default `--from`). */
export function parseRequestSource(from: string, trustDomain: string, what = '--from', location?: SourceLocation): RequestSource {
  if (from === 'plaintext') return { kind: 'plaintext' };
  if (from.startsWith('spiffe://') || from.split('/').length === 5) return { kind: 'mesh', identity: from };
  const parts = from.split('/');
  if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') return { kind: 'mesh', identity: principalOf(trustDomain, parts[0] ?? '', parts[1] ?? '') };
  throw new MeshproofError(ErrorCode.BadArgument, `${what} '${from}' is not 'plaintext', 'namespace/serviceaccount' or a SPIFFE identity`, {
    hint: 'e.g. prod-namespace/order-service-sa or plaintext',
    ...(location === undefined ? {} : { location }),
  });
}
