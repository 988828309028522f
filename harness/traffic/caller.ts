/**
 * The caller: one entry point that dispatches a CallRequest to the sender for its protocol.
 * Cross-cutting behaviour (recording, timing, faults) wraps a Sender instead of adding flags.
 */
import { defaultTimeouts } from '../config/timeouts.ts';
import { sendHttp } from './senders/http-sender.ts';
import { sendTcp } from './senders/tcp-sender.ts';
import { sendTlsHandshake } from './senders/tls-handshake-sender.ts';
import type { CallProtocol, CallRequest, Observation } from './types.ts';

export type Sender = (request: CallRequest, timeoutMs: number) => Promise<Observation>;

const senders: Readonly<Record<CallProtocol, Sender>> = {
  http: sendHttp,
  https: sendHttp,
  'tls-handshake': sendTlsHandshake,
  tcp: sendTcp,
};

export function senderFor(protocol: CallProtocol): Sender {
  return senders[protocol];
}

export function call(request: CallRequest, defaultTimeoutMs: number = defaultTimeouts.probe): Promise<Observation> {
  return senderFor(request.protocol)(request, request.timeoutMs ?? defaultTimeoutMs);
}
