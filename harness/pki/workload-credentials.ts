import { CertificateBundle, type CertificateBundleFields } from './certificate-bundle.ts';
import { spiffeUri, type SpiffeIdentity } from './spiffe.ts';

/** A workload certificate the mesh CA issued, with its key and the mesh roots. */
export class WorkloadCredentials extends CertificateBundle {
  readonly identity: SpiffeIdentity;
  /** `spiffe://<td>/ns/<ns>/sa/<sa>`. */
  readonly spiffeId: string;

  constructor(fields: CertificateBundleFields, identity: SpiffeIdentity) {
    super(fields);
    this.identity = identity;
    this.spiffeId = spiffeUri(identity);
  }

  override toJSON(): Record<string, unknown> {
    return { identity: this.spiffeId, ...super.toJSON() };
  }
}
