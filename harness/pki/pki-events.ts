/**
 * Events the PKI publishes on the harness channel (see ../events.ts). Certificates are named by
 * SHA-256 fingerprint; keys never appear in events.
 */
declare module '../events.ts' {
  interface EventMap {
    /** The mesh CA signed a workload certificate. */
    'pki:issued': {
      readonly identity: string;
      readonly fingerprint256: string;
      readonly serialNumber: string;
      readonly notBefore: string;
      readonly notAfter: string;
    };
    /** A rotator replaced a workload's files with a new certificate and key. */
    'pki:rotated': {
      readonly identity: string;
      readonly dir: string;
      /** 1 for the first renewal after start. */
      readonly rotation: number;
      readonly previousFingerprint256: string;
      readonly fingerprint256: string;
      readonly notAfter: string;
    };
    /** A renewal failed; the rotator tries again after its retry interval. */
    'pki:rotation-failed': {
      readonly identity: string;
      readonly dir: string;
      readonly error: string;
      readonly retryInMs: number;
    };
  }
}

export {};
