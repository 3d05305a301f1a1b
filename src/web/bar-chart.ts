/**
 * A hand-made, accessible horizontal bar chart in HTML. Each row is a label and its value on one
 * line, and the bar under it, so long labels (months, province names) never collide. The text is
 * real page text in the page's font size (never scaled down with a drawing, as an SVG's would be
 * at 360 px). The chart is one image (`role="img"`) named by its title and described by its
 * description; the page MUST also show the figures as a table. Logical CSS properties put labels
 * and bars at the right in a right-to-left page. A bar's `marks` ("disputed") are words beside
 * its label, never colour alone.
 */
import { h, uid } from "./dom.ts";

export interface Bar {
  label: string;
  /** `null` when the figure is suppressed (drawn as text only, no bar). */
  value: bigint | null;
  /** The value as shown to people (already localised). */
  valueText: string;
  /** Words shown beside the label, such as "disputed". */
  marks?: readonly string[];
  /** A figure to read with care (disputed): its bar is hatched, besides the words in `marks`. */
  flagged?: boolean;
}

export interface BarChartOptions {
  title: string;
  desc: string;
  dir: "rtl" | "ltr";
  bars: readonly Bar[];
}

/** `value` as a share of `top` in percent (0–100), without floating-point loss on huge Rial amounts. */
function percent(value: bigint, top: bigint): number {
  if (top <= 0n || value <= 0n) return 0;
  return Number((value * 10_000n) / top) / 100;
}

/**
 * @example
 * barChart({ title: "Premiums", desc: "…", dir: "ltr", bars: [{ label: "Mehr 1403", value: 12n, valueText: "12" }] })
 */
export function barChart(options: BarChartOptions): HTMLElement {
  const { bars } = options;
  const titleId = uid("chart-title");
  const descId = uid("chart-desc");
  const top = bars.reduce((m, b) => (b.value !== null && b.value > m ? b.value : m), 0n);
  const rows = bars.map((bar) => {
    const fill = h("span", { class: "chart-bar" });
    const share =
      bar.value === null ? 0 : Math.max(bar.value > 0n ? 0.5 : 0, percent(bar.value, top));
    // Set through the CSSOM: the page's CSP allows no style attributes.
    fill.style.inlineSize = `${share.toFixed(2)}%`;
    const marks = bar.marks ?? [];
    return h(
      "div",
      { class: bar.flagged === true ? "chart-row chart-flagged" : "chart-row" },
      h(
        "span",
        { class: "chart-label" },
        bar.label,
        ...marks.map((m) => h("span", { class: "chart-mark" }, m)),
      ),
      h(
        "span",
        { class: bar.value === null ? "chart-value chart-suppressed" : "chart-value" },
        bar.valueText,
      ),
      h("span", { class: "chart-track" }, bar.value !== null && share > 0 && fill),
    );
  });
  return h(
    "div",
    { class: "chart", role: "img", "aria-labelledby": `${titleId} ${descId}`, dir: options.dir },
    h("span", { id: titleId, hidden: true }, options.title),
    h("span", { id: descId, hidden: true }, options.desc),
    ...rows,
  );
}
