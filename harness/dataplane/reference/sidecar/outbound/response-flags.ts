/**
 * Envoy's response flags as a bit set, printed as `%RESPONSE_FLAGS%` prints them: short names
 * joined by commas in Envoy's own order (StreamInfo ResponseFlag), `-` when none
 * (istio-semantics.md §5).
 */
const ORDER = ['LH', 'UH', 'UT', 'LR', 'UR', 'UF', 'UC', 'UO', 'NR', 'DI', 'FI', 'RL', 'UAEX', 'RLSE', 'DC', 'URX', 'SI', 'IH', 'DPE', 'UMSDR', 'RFCF', 'NFCF', 'DT', 'UPE', 'NC', 'OM', 'DF', 'DO', 'DR'] as const;

export type ResponseFlag = (typeof ORDER)[number];

const BIT = new Map<ResponseFlag, number>(ORDER.map((f, i) => [f, 1 << i]));

export class ResponseFlags {
  #bits = 0;

  add(flag: ResponseFlag): void {
    this.#bits |= BIT.get(flag)!;
  }

  has(flag: ResponseFlag): boolean {
    return (this.#bits & BIT.get(flag)!) !== 0;
  }

  toString(): string {
    if (this.#bits === 0) return '-';
    const out: string[] = [];
    for (const [flag, bit] of BIT) if ((this.#bits & bit) !== 0) out.push(flag);
    return out.join(',');
  }
}
