// Per key, the last days of resolves and failures as small bars, from ProviderKey.usage(days: USAGE_DAYS)
// (the page's ProviderKeyUsage query; each key row renders its own). The bars are SVG attributes, not
// style attributes (the page's CSP allows no inline style), and the totals are text for screen readers.

export interface UsageDay {
  /** YYYY-MM-DD (UTC) */
  day: string;
  resolves: number;
  failures: number;
}

/** The days the page asks for and the chart spans. */
export const USAGE_DAYS = 30;

const HEIGHT = 32;
const BAR = 4;

export function UsageChart(props: {
  days: readonly UsageDay[];
  /** The newest day shown (YYYY-MM-DD, UTC), usually today. */
  lastDay: string;
  span?: number;
}) {
  const { days, lastDay, span = USAGE_DAYS } = props;
  // The API lists only days with activity, newest first; the chart shows every day of the span, oldest left.
  const byDay = new Map(days.map((entry) => [entry.day, entry]));
  const end = Date.parse(`${lastDay}T00:00:00Z`);
  const columns = Array.from({ length: span }, (_, index) => {
    const day = new Date(end - (span - 1 - index) * 86_400_000).toISOString().slice(0, 10);
    return byDay.get(day) ?? { day, resolves: 0, failures: 0 };
  });
  const peak = Math.max(1, ...columns.map((entry) => entry.resolves + entry.failures));
  const total = (field: 'resolves' | 'failures') => days.reduce((sum, entry) => sum + entry[field], 0);
  const scale = (value: number) => Math.round((value / peak) * HEIGHT);

  return (
    <figure className="usage">
      <svg viewBox={`0 0 ${span * BAR} ${HEIGHT}`} width={span * BAR} height={HEIGHT} aria-hidden="true">
        {columns.map((entry, index) => (
          <g key={entry.day}>
            <rect
              className="usage-ok"
              x={index * BAR}
              y={HEIGHT - scale(entry.resolves + entry.failures)}
              width={BAR - 1}
              height={scale(entry.resolves)}
            />
            <rect
              className="usage-failed"
              x={index * BAR}
              y={HEIGHT - scale(entry.failures)}
              width={BAR - 1}
              height={scale(entry.failures)}
            />
          </g>
        ))}
      </svg>
      <figcaption>
        Last {span} days: {total('resolves')} uses, {total('failures')} failures
      </figcaption>
    </figure>
  );
}
