/**
 * The portal's entry point: language, chrome (skip link, navigation, language switch) and hash
 * routing. Routes: `#/` overview, `#/batches`, `#/batches/{id}`, `#/receipt`, `#/history`, `#/certificate`, `#/about`.
 * Hashes that do not start with `#/` (the skip link's `#main`) are not routes.
 */
import { dir, initLang, lang, setLang, t } from "./i18n.ts";
import type { MessageKey } from "./messages.ts";
import { renderAboutPage } from "./pages/about-page.ts";
import { renderBatchPage } from "./pages/batch-page.ts";
import { renderBatchesPage } from "./pages/batches-page.ts";
import { renderCertificatePage } from "./pages/certificate-page.ts";
import { renderNotFoundPage } from "./pages/not-found-page.ts";
import { renderOverviewPage } from "./pages/overview-page.ts";
import { renderHistoryPage } from "./pages/history-page.ts";
import { renderReceiptPage } from "./pages/receipt-page.ts";
import type { PageContext, PageResult } from "./pages/page.ts";
import { loading } from "./ui.ts";

interface Route {
  name:
    "overview" | "batches" | "batch" | "receipt" | "history" | "certificate" | "about" | "notfound";
  params: Record<string, string>;
  query: URLSearchParams;
}

function parseRoute(hash: string): Route {
  const raw = hash.startsWith("#/") ? hash.slice(2) : "";
  const [path = "", qs = ""] = raw.split("?", 2);
  const query = new URLSearchParams(qs);
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.length === 0) return { name: "overview", params: {}, query };
  if (parts[0] === "batches" && parts.length === 1) return { name: "batches", params: {}, query };
  if (parts[0] === "batches" && parts.length === 2 && /^[1-9]\d{0,18}$/.test(parts[1] ?? "")) {
    return { name: "batch", params: { id: parts[1] ?? "" }, query };
  }
  if (parts[0] === "receipt" && parts.length === 1) return { name: "receipt", params: {}, query };
  if (parts[0] === "history" && parts.length === 1) return { name: "history", params: {}, query };
  if (parts[0] === "certificate" && parts.length === 1)
    return { name: "certificate", params: {}, query };
  if (parts[0] === "about" && parts.length === 1) return { name: "about", params: {}, query };
  return { name: "notfound", params: {}, query };
}

const RENDERERS: Record<Route["name"], (ctx: PageContext) => Promise<PageResult>> = {
  overview: renderOverviewPage,
  batches: renderBatchesPage,
  batch: renderBatchPage,
  receipt: renderReceiptPage,
  history: renderHistoryPage,
  certificate: renderCertificatePage,
  about: renderAboutPage,
  notfound: renderNotFoundPage,
};

const NAV_OF_ROUTE: Partial<Record<Route["name"], string>> = {
  overview: "overview",
  batches: "batches",
  batch: "batches",
  receipt: "receipt",
  history: "history",
  certificate: "certificate",
  about: "about",
};

const main = document.getElementById("main") as HTMLElement;
let renderToken = 0;
let lastRouteHash = "#/";

function renderChrome(): void {
  for (const el of document.querySelectorAll<HTMLElement>("[data-i18n]")) {
    el.textContent = t(el.dataset["i18n"] as MessageKey);
  }
  document.getElementById("site-nav")?.setAttribute("aria-label", t("navLabel"));
  const button = document.getElementById("lang-switch");
  if (button !== null) {
    button.textContent = t("switchTo");
    button.setAttribute("lang", lang() === "fa" ? "en" : "fa");
    button.setAttribute("dir", lang() === "fa" ? "ltr" : "rtl");
    button.setAttribute("aria-label", t("switchToLabel"));
  }
}

/** Renders the route in `location.hash`. `focus` moves focus to the new page's heading. */
async function render(focus: boolean): Promise<void> {
  const hash =
    location.hash.startsWith("#/") || location.hash === "" ? location.hash || "#/" : lastRouteHash;
  lastRouteHash = hash;
  const route = parseRoute(hash);
  const token = ++renderToken;
  const navName = NAV_OF_ROUTE[route.name];
  for (const link of document.querySelectorAll<HTMLAnchorElement>("#site-nav a")) {
    if (link.dataset["route"] === navName) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const ctx: PageContext = {
    lang: lang(),
    dir: dir(),
    params: route.params,
    query: route.query,
    isCurrent: () => token === renderToken,
    navigate: (next) => {
      location.hash = next;
    },
    rerender: () => void render(true),
  };
  if (focus) {
    main.setAttribute("aria-busy", "true");
    main.replaceChildren(loading());
  }
  const page = await RENDERERS[route.name](ctx);
  if (token !== renderToken) return; // a newer navigation won
  document.title = `${page.title} — ${t("siteName")}`;
  main.replaceChildren(page.content);
  main.removeAttribute("aria-busy");
  if (focus) {
    const heading = main.querySelector<HTMLElement>("h1");
    (heading ?? main).focus();
  }
}

function start(): void {
  initLang();
  renderChrome();
  document.getElementById("lang-switch")?.addEventListener("click", () => {
    setLang(lang() === "fa" ? "en" : "fa");
    renderChrome();
    void render(false);
  });
  document.querySelector(".skip-link")?.addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
    main.scrollIntoView();
  });
  window.addEventListener("hashchange", () => {
    if (location.hash.startsWith("#/") || location.hash === "") void render(true);
  });
  void render(false);
}

start();
