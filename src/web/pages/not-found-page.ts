import { h } from "../dom.ts";
import { t } from "../i18n.ts";
import { pageHeading } from "../ui.ts";
import type { PageContext, PageResult } from "./page.ts";

/** Any hash route that names no page. */
export function renderNotFoundPage(_ctx: PageContext): Promise<PageResult> {
  return Promise.resolve({
    title: t("notFoundTitle"),
    content: h(
      "div",
      {},
      pageHeading(t("notFoundTitle")),
      h("p", {}, t("notFoundBody")),
      h("p", {}, h("a", { href: "#/" }, t("backToOverview"))),
    ),
  });
}
