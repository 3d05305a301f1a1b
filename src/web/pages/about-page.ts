/** About: how the system works, what it proves and what it does not, and the chain behind the site. */
import { getChainInfo, type ChainInfo } from "../api-client.ts";
import { h } from "../dom.ts";
import { formatInteger, localDigits } from "../format.ts";
import { t } from "../i18n.ts";
import type { MessageKey } from "../messages.ts";
import { fieldList, hashText, pageHeading } from "../ui.ts";
import type { PageContext, PageResult } from "./page.ts";

function list(keys: readonly MessageKey[], ordered = false): HTMLElement {
  return h(ordered ? "ol" : "ul", {}, ...keys.map((key) => h("li", {}, t(key))));
}

function chainSection(ctx: PageContext, info: ChainInfo | undefined): HTMLElement | undefined {
  if (info === undefined) return undefined;
  const head = info.headCheck?.status ?? "pending";
  return h(
    "section",
    {},
    h("h2", {}, t("aboutChainTitle")),
    info.paused === true && h("p", { class: "error-text" }, t("aboutPaused")),
    fieldList([
      [t("aboutChainId"), localDigits(String(info.chainId), ctx.lang)], // an identifier: no grouping
      [t("aboutContract"), hashText(info.contract)],
      [t("aboutBatchCount"), formatInteger(info.batchCount, ctx.lang)],
      [t("aboutLastBlock"), formatInteger(info.lastIndexedBlock, ctx.lang)],
      [
        t("aboutHeadCheck"),
        t(head === "ok" ? "headOk" : head === "mismatch" ? "headMismatch" : "headPending"),
      ],
    ]),
  );
}

export async function renderAboutPage(ctx: PageContext): Promise<PageResult> {
  const title = t("aboutTitle");
  let info: ChainInfo | undefined;
  try {
    info = await getChainInfo();
  } catch {
    info = undefined; // the explanation stands on its own; the chain facts are a bonus
  }
  return {
    title,
    content: h(
      "div",
      {},
      pageHeading(title),
      h("h2", {}, t("aboutWhatTitle")),
      h("p", {}, t("aboutWhat")),
      h("h2", {}, t("aboutHowTitle")),
      list(["aboutHow1", "aboutHow2", "aboutHow3", "aboutHow4"], true),
      h("h2", {}, t("aboutProvesTitle")),
      list(["aboutProves1", "aboutProves2", "aboutProves3"]),
      h("h2", {}, t("aboutNotTitle")),
      list(["aboutNot1", "aboutNot2", "aboutNot3"]),
      h("h2", {}, t("aboutPrivacyTitle")),
      h("p", {}, t("aboutPrivacy")),
      chainSection(ctx, info),
    ),
  };
}
