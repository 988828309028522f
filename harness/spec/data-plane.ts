/** The data planes meshproof can test (`--dataplane`), and what a report states about one. The CLI reads the names without loading any adapter. */
import type { Feature } from './features.ts';

export const DATA_PLANES = ['reference', 'envoy'] as const;
export type DataPlaneName = (typeof DATA_PLANES)[number];

/** What a report states about the data plane under test: the adapter's info() and the report's header. */
export interface DataPlaneInfo {
  readonly name: string;
  readonly version: string;
  readonly claimedFeatures: readonly Feature[];
  /** False when the data plane cannot run here; every case is then skipped with the reason. */
  readonly available: boolean;
  readonly unavailableReason?: string;
}
