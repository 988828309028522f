/** The data planes meshproof can test (`--dataplane`). A leaf module: the CLI reads it without loading any adapter. */
export const DATA_PLANES = ['reference', 'envoy'] as const;
export type DataPlaneName = (typeof DATA_PLANES)[number];
