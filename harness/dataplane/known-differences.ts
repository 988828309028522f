/**
 * Where the reference sidecar and Envoy 1.40 (as istiod configures it) were seen to behave
 * differently, each tried live on both data planes, and what became of it: resolved (the reference
 * sidecar now does what Envoy does, with the test that holds it there) or kept (with the reason,
 * and what it changes for a verdict). The differential report lists the kept ones beside the
 * differences a run observed; the README's table is held to this list by a unit test.
 */
export interface KnownDifference {
  readonly id: string;
  /** What was sent or set up. */
  readonly situation: string;
  /** What Envoy does (measured). */
  readonly envoy: string;
  /** What the reference sidecar does now (measured). */
  readonly reference: string;
  readonly status: 'resolved' | 'kept' | 'no difference';
  /** For kept: why, and whether any verdict can depend on it. For resolved: the test that holds it. */
  readonly note: string;
}

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    id: 'http10',
    situation: 'an HTTP/1.0 request (or HTTP/0.9, no version) on a plaintext port',
    envoy: '426 Upgrade Required from the codec, logged 426 DPE low_version (istiod leaves accept_http_10 off)',
    reference: 'the same (it forwarded the request with a Host header it made up)',
    status: 'resolved',
    note: 'harness/mesh/mesh-environment.docker.test.ts, "HTTP/1 edges", on both data planes',
  },
  {
    id: 'missing-host',
    situation: 'an HTTP/1.1 request without Host',
    envoy: '400 with an empty body, logged with its method and path: 400 - missing_host_header',
    reference: "the same (it was Node's own 400, never logged or counted)",
    status: 'resolved',
    note: 'harness/mesh/mesh-environment.docker.test.ts, "HTTP/1 edges"',
  },
  {
    id: 'absolute-form',
    situation: 'an absolute-form request target: POST http://other.example/pay/1 with Host: payment-service',
    envoy: 'the authority is the URI\'s (other.example) for RBAC, the access log and the app; the path is /pay/1',
    reference: 'the same (it took the Host header and logged the absolute form)',
    status: 'resolved',
    note: 'harness/mesh/mesh-environment.docker.test.ts, "HTTP/1 edges"',
  },
  {
    id: 'unknown-method',
    situation: 'a valid but unknown method token (FOO), or a lower-case one',
    envoy: '400 Bad Request from the codec, logged 400 DPE http1.codec_error, before authorization',
    reference: 'the same',
    status: 'no difference',
    note: 'Envoy 1.40 refuses it too (its HTTP/1 parser knows only registered methods)',
  },
  {
    id: 'server-header',
    situation: 'any response through a sidecar',
    envoy: 'server: istio-envoy, which istiod sets on every connection manager',
    reference: 'the same (the Envoy render said envoy until it set server_name as istiod does)',
    status: 'resolved',
    note: 'harness/dataplane/envoy/render-golden.test.ts and the HTTP/1 edges test',
  },
  {
    id: 'tls13-cipher',
    situation: 'the TLS 1.3 cipher suite two sidecars negotiate',
    envoy: 'TLS_AES_128_GCM_SHA256 (BoringSSL prefers AES-128)',
    reference: "the same (it negotiated TLS_AES_256_GCM_SHA384, OpenSSL's default preference, until it offered its TLS 1.3 suites in BoringSSL's order)",
    status: 'resolved',
    note: 'the wire cases read the suite from the capture on both data planes (strict-on-the-wire)',
  },
  {
    id: 'pool-one-request-per-connection',
    situation: "Istio's circuit-breaking task: maxConnections 1, http1MaxPendingRequests 1, maxRequestsPerConnection 1, two clients, 20 requests",
    envoy: '12 to 18 of 20 succeed (containers); Istio\'s documented run shows about 19',
    reference: '19 of 20 in process (10 before: it waited for a connection carrying its last request to finish before opening the next, where Envoy moves that connection to its draining list); 1 to 10 of 20 in containers',
    status: 'kept',
    note: 'same algorithm; in containers each new mutual-TLS connection took the reference sidecar 11–110 ms under the storm of overflowing requests (Node TLS), so more requests overflow while it connects. Verdicts count on the circuit breaker, not on the number: the pool case compares each data plane with its own counters',
  },
  {
    id: 'bad-client-certificate-alert',
    situation: 'a client certificate from another CA, expired, not yet valid, without a URI SAN or a CA certificate used as a leaf',
    envoy: 'the handshake fails with a TLS alert naming the reason (unknown ca, certificate expired, certificate unknown, illegal parameter)',
    reference: 'the connection is closed without an alert: Node checks a client certificate after its handshake and cannot make OpenSSL send one',
    status: 'kept',
    note: 'the same decision (rejected before HTTP, the app never sees it); listed among the details in differential reports',
  },
  {
    id: 'http2-inbound',
    situation: 'HTTP/2 to a sidecar\'s inbound port: h2c with prior knowledge, or h2 by ALPN on mutual TLS',
    envoy: 'speaks HTTP/2 (codec AUTO; the mTLS chain offers h2 and http/1.1)',
    reference: 'speaks HTTP/1.1 only: the h2c preface gets 400 (codec error), and an ALPN offer of h2 falls back to HTTP/1.1',
    status: 'kept',
    note: "the reference sidecar is Node's HTTP/1.1 server; no case sends HTTP/2 yet, so no verdict depends on it",
  },
];
