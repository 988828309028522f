/**
 * The ejection timeline as an inline SVG, drawn here rather than with a chart library: one lane
 * per replica, a dot per request in the lane of the replica that served it (coloured by status),
 * ejection windows shaded (observed) or outlined (expected by the oracle). SVG prints as vectors,
 * needs no script (the page runs none from traffic), and every label is escaped text.
 */
import type { EjectionTimeline } from '../schema.ts';
import { formatMs, html } from './h.ts';

const WIDTH = 1000;
const LEFT = 190;
const RIGHT = 16;
const TOP = 10;
const LANE = 28;
const AXIS = 40;
const NO_ENDPOINT = '(no endpoint)';

/** 1, 2 or 5 × 10^k: the tick step that gives about `count` ticks over `span`. */
export function niceStep(span: number, count = 8): number {
  const raw = Math.max(span, 1e-9) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * magnitude;
}

function statusColour(status: number): string {
  if (status >= 200 && status < 300) return '#1f7a3a';
  if (status >= 500) return '#b42318';
  if (status >= 400) return '#9a4d00';
  return '#6b6f78';
}

export function EjectionTimelineSvg({ timeline }: { timeline: EjectionTimeline }) {
  const lanes = [...timeline.endpoints];
  if (timeline.requests.some((r) => r.servedBy === null || !lanes.includes(r.servedBy))) lanes.push(NO_ENDPOINT);
  const laneOf = (endpoint: string | null): number => {
    const i = endpoint === null ? -1 : lanes.indexOf(endpoint);
    return i === -1 ? lanes.indexOf(NO_ENDPOINT) : i;
  };
  const times = [...timeline.requests.map((r) => r.atMs), ...timeline.ejections.flatMap((e) => [e.fromMs, e.toMs ?? e.fromMs])];
  const end = Math.max(1, ...times) * 1.02;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (ms: number): number => LEFT + (Math.min(ms, end) / end) * plotWidth;
  const laneY = (i: number): number => TOP + i * LANE;
  const height = TOP + lanes.length * LANE + AXIS;
  const step = niceStep(end);
  const ticks: number[] = [];
  for (let t = 0; t <= end; t += step) ticks.push(t);
  const observed = timeline.ejections.filter((e) => e.source === 'observed');
  const expected = timeline.ejections.filter((e) => e.source === 'expected');
  const policySecondsPerRunSecond = 1 / timeline.timeScale;

  return html`<figure class="timeline">
    <svg viewBox=${`0 0 ${WIDTH} ${height}`} role="img" aria-label=${`Ejection timeline of ${timeline.case}`} xmlns="http://www.w3.org/2000/svg">
      <title>${`Ejection timeline of ${timeline.case}: ${timeline.requests.length} requests, ${observed.length} observed and ${expected.length} expected ejections`}</title>
      ${lanes.map(
        (lane, i) => html`<g>
          <rect x=${LEFT} y=${laneY(i)} width=${plotWidth} height=${LANE} fill=${i % 2 === 0 ? '#f6f7fa' : '#ffffff'} />
          <text x=${LEFT - 8} y=${laneY(i) + LANE / 2 + 4} text-anchor="end" font-size="12" font-family="ui-monospace, Menlo, Consolas, monospace" fill="#1d2330">${lane}</text>
        </g>`,
      )}
      ${observed.map((e) => {
        const i = laneOf(e.endpoint);
        const to = e.toMs ?? end;
        return html`<rect class="ejection-observed" x=${x(e.fromMs)} y=${laneY(i) + 2} width=${Math.max(1, x(to) - x(e.fromMs))} height=${LANE - 4} fill="rgba(180,35,24,0.20)" stroke="rgba(180,35,24,0.6)" stroke-width="1">
          <title>${`${e.endpoint} ejected (observed) from ${formatMs(e.fromMs)} to ${e.toMs === null ? 'the end' : formatMs(e.toMs)}`}</title>
        </rect>`;
      })}
      ${expected.map((e) => {
        const i = laneOf(e.endpoint);
        const to = e.toMs ?? end;
        return html`<rect class="ejection-expected" x=${x(e.fromMs)} y=${laneY(i) + 1} width=${Math.max(1, x(to) - x(e.fromMs))} height=${LANE - 2} fill="none" stroke="#2d4f86" stroke-width="1.5" stroke-dasharray="5 3">
          <title>${`${e.endpoint} ejected (expected by the oracle) from ${formatMs(e.fromMs)} to ${e.toMs === null ? 'the end' : formatMs(e.toMs)}`}</title>
        </rect>`;
      })}
      ${timeline.requests.map(
        (r) => html`<circle class="request" cx=${x(r.atMs).toFixed(1)} cy=${laneY(laneOf(r.servedBy)) + LANE / 2} r="3.2" fill=${statusColour(r.status)}>
          <title>${`${formatMs(r.atMs)}: ${r.status === 0 ? 'no response' : r.status}${r.servedBy === null ? '' : ` from ${r.servedBy}`}${r.flags === undefined || r.flags === '-' ? '' : ` (${r.flags})`}`}</title>
        </circle>`,
      )}
      <line x1=${LEFT} x2=${LEFT + plotWidth} y1=${laneY(lanes.length)} y2=${laneY(lanes.length)} stroke="#5b6475" />
      ${ticks.map(
        (t) => html`<g>
          <line x1=${x(t)} x2=${x(t)} y1=${laneY(lanes.length)} y2=${laneY(lanes.length) + 5} stroke="#5b6475" />
          <text x=${x(t)} y=${laneY(lanes.length) + 18} text-anchor="middle" font-size="11" fill="#5b6475">${formatMs(t)}</text>
        </g>`,
      )}
      <text x=${LEFT + plotWidth / 2} y=${height - 4} text-anchor="middle" font-size="11" fill="#5b6475">${`run time since the experiment started (time scale ${timeline.timeScale}: 1 s here is ${policySecondsPerRunSecond.toFixed(policySecondsPerRunSecond < 10 ? 1 : 0)} s of policy time)`}</text>
    </svg>
    <figcaption class="legend">
      <span><span class="swatch" style="background:#1f7a3a"></span>2xx</span>
      <span><span class="swatch" style="background:#9a4d00"></span>4xx</span>
      <span><span class="swatch" style="background:#b42318"></span>5xx</span>
      <span><span class="swatch" style="background:#6b6f78"></span>no response</span>
      <span><span class="swatch" style="background:rgba(180,35,24,0.2)"></span>ejected (observed from metrics and traffic)</span>
      <span><span class="swatch" style="background:#fff;border:1.5px dashed #2d4f86"></span>ejected (expected by the oracle)</span>
    </figcaption>
  </figure>`;
}

export function EjectionTimelines({ timelines }: { timelines: readonly EjectionTimeline[] }) {
  if (timelines.length === 0) return null;
  return html`<section id="ejection-timelines">
    <h2>Ejection timelines</h2>
    <p class="sub">Which replica served each request over time. Shaded: the replica was ejected (seen in traffic and the sidecar's outlier-detection metrics). Dashed: when the oracle says Envoy ejects it. Requests in “${NO_ENDPOINT}” were answered by the sidecar itself (e.g. 503 UH: no healthy upstream).</p>
    ${timelines.map((t) => html`<h3 class="mono">${t.case}</h3><${EjectionTimelineSvg} timeline=${t} />`)}
  </section>`;
}
