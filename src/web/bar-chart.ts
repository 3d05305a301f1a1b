/**
 * A hand-made, accessible horizontal bar chart in SVG. Each row is a label and its value on one
 * line, and the bar under it, so long labels (months, province names) never collide and the
 * chart reads the same at 360 px and on a desktop. The SVG is one image (`role="img"`) named by
 * its `<title>` and described by its `<desc>`; the page MUST also show the figures as a table.
 * In a right-to-left language the chart is mirrored: labels and bars start at the right.
 */
import { s, uid } from "./dom.ts";

export interface Bar {
  label: string;
  /** `null` when the figure is suppressed (drawn as text only, no bar). */
  value: bigint | null;
  /** The value as shown to people (already localised). */
  valueText: string;
}

export interface BarChartOptions {
  title: string;
  desc: string;
  dir: "rtl" | "ltr";
  bars: readonly Bar[];
}

const WIDTH = 400;
const PAD = 4;
const TEXT_LINE = 18;
const BAR_HEIGHT = 12;
const ROW = TEXT_LINE + BAR_HEIGHT + 10;

/** Scales `value` into 0..`max` pixels without floating-point loss on huge Rial amounts. */
function scale(value: bigint, top: bigint, max: number): number {
  if (top <= 0n || value <= 0n) return 0;
  return Number((value * 10_000n) / top) * (max / 10_000);
}

/**
 * @example
 * barChart({ title: "Premiums", desc: "…", dir: "ltr", bars: [{ label: "Mehr 1403", value: 12n, valueText: "12" }] })
 */
export function barChart(options: BarChartOptions): SVGElement {
  const { bars, dir } = options;
  const titleId = uid("chart-title");
  const descId = uid("chart-desc");
  const height = Math.max(ROW, bars.length * ROW);
  const top = bars.reduce((m, b) => (b.value !== null && b.value > m ? b.value : m), 0n);
  const start = dir === "rtl" ? WIDTH - PAD : PAD;
  const end = dir === "rtl" ? PAD : WIDTH - PAD;
  const span = WIDTH - 2 * PAD;
  const rows = bars.map((bar, i) => {
    const y = i * ROW;
    const length =
      bar.value === null ? 0 : Math.max(bar.value > 0n ? 2 : 0, scale(bar.value, top, span));
    return s(
      "g",
      {},
      s(
        "text",
        { x: start, y: y + 14, "text-anchor": "start", direction: dir, class: "chart-label" },
        bar.label,
      ),
      s(
        "text",
        {
          x: end,
          y: y + 14,
          "text-anchor": "end",
          direction: dir,
          class: bar.value === null ? "chart-value chart-suppressed" : "chart-value",
        },
        bar.valueText,
      ),
      s("rect", {
        x: PAD,
        y: y + TEXT_LINE + 2,
        width: span,
        height: BAR_HEIGHT,
        class: "chart-track",
      }),
      length > 0 &&
        s("rect", {
          x: dir === "rtl" ? WIDTH - PAD - length : PAD,
          y: y + TEXT_LINE + 2,
          width: length.toFixed(2),
          height: BAR_HEIGHT,
          class: "chart-bar",
        }),
    );
  });
  return s(
    "svg",
    {
      role: "img",
      "aria-labelledby": `${titleId} ${descId}`,
      viewBox: `0 0 ${WIDTH} ${height}`,
      class: "chart",
      focusable: "false",
    },
    s("title", { id: titleId }, options.title),
    s("desc", { id: descId }, options.desc),
    ...rows,
  );
}
