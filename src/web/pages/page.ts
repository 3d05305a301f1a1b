/** What every page renderer receives and returns. */
import type { Lang } from "../messages.ts";

export interface PageContext {
  lang: Lang;
  dir: "rtl" | "ltr";
  /** Path parameters (`id` for a batch). */
  params: Record<string, string>;
  /** The hash's query string (`#/batches?kind=pension`). */
  query: URLSearchParams;
  /** False once the viewer has navigated elsewhere; async work should then stop touching the page. */
  isCurrent: () => boolean;
  /** Go to another route (`#/batches?…`). */
  navigate: (hash: string) => void;
  /** Render the current route again (after a retry). */
  rerender: () => void;
}

export interface PageResult {
  /** For `document.title`. */
  title: string;
  content: HTMLElement;
}
