/**
 * The second way into "My insurance history": a printed history key (docs/spec/history-key-v1.md),
 * typed, pasted, or the text a phone's camera read from its QR code. The key is read here
 * (`parseHistoryKey`: a typo is refused naming its group), then its VRF proof is checked in this
 * browser against the VRF public keys registered on the chain (the keys the newest
 * `shafaf-tree/2` batches name, newest first), and only then handed to the history page, which
 * checks it again as it checks a key from sign-in. The text never leaves this page: it is not
 * sent anywhere, not stored, not put in the URL; the field is cleared once the key is read.
 */
import { bytesToHex, hexToBytes } from "../core/hex.ts";
import { HistoryKeyError, parseHistoryKey, type HistoryKey } from "../core/history-key.ts";
import { personVrfInput } from "../core/person-key.ts";
import { vrfVerify } from "../core/vrf.ts";
import { getChainInfo } from "./api-client.ts";
import { readBatchCount, readChainBatchV2, readVrfPublicKey } from "./chain-batch.ts";
import { h, uid } from "./dom.ts";
import { localDigits } from "./format.ts";
import { t } from "./i18n.ts";
import type { PersonKey } from "./history-check.ts";
import type { PageContext } from "./pages/page.ts";

/** How many batches, newest first, are read to find the key a history key was made with. */
export const KEY_SEARCH_BATCHES = 256;

export type ResolveOutcome =
  | { ok: true; key: PersonKey }
  | { ok: false; why: "no-chain" | "not-issued" | "chain-read"; detail: string };

/**
 * Finds the registered VRF public key under which the history key's proof verifies.
 *
 * @example
 * const r = await resolveHistoryKey(parseHistoryKey(text)); if (r.ok) show(r.key);
 */
export async function resolveHistoryKey(parsed: HistoryKey): Promise<ResolveOutcome> {
  const alpha = personVrfInput(parsed.personId);
  try {
    const info = await getChainInfo();
    if (info.rpcUrl === undefined)
      return { ok: false, why: "no-chain", detail: "this site publishes no JSON-RPC URL" };
    const { rpcUrl, contract } = info;
    const count = Number(await readBatchCount(rpcUrl, contract));
    const tried = new Set<string>();
    for (let id = count; id >= 1 && id > count - KEY_SEARCH_BATCHES; id--) {
      const batch = await readChainBatchV2(rpcUrl, contract, BigInt(id));
      if (batch === undefined || tried.has(batch.vrfKeyId)) continue;
      tried.add(batch.vrfKeyId);
      const pk = await readVrfPublicKey(rpcUrl, contract, batch.vrfKeyId);
      if (pk === undefined) continue;
      if (vrfVerify(hexToBytes(pk), parsed.proof, alpha).valid)
        return {
          ok: true,
          key: { personId: parsed.personId, vrfPublicKey: pk, proof: bytesToHex(parsed.proof) },
        };
    }
    return { ok: false, why: "not-issued", detail: `${tried.size} keys tried` };
  } catch (error) {
    return {
      ok: false,
      why: "chain-read",
      detail: error instanceof Error ? error.message : String(error),
    };
  }
}

/** The refusal of a typed key, in the page's language, naming the group where it can. */
export function historyKeyProblemText(ctx: PageContext, error: HistoryKeyError): string {
  const group = localDigits(String(error.group ?? 0), ctx.lang);
  switch (error.problem) {
    case "empty":
      return t("keyEmpty");
    case "character":
      return t("keyCharacter", { group });
    case "group":
      return t("keyGroup", { group });
    case "length":
      return t("keyLength", { group });
    case "padding":
      return t("keyGroup", { group });
    case "checksum":
      return t("keyChecksum");
    case "version":
      return t("keyVersion");
    case "identifier":
      return t("keyIdentifier");
  }
}

/**
 * The form «کلید سوابق دارم» / "I have a history key". `onKey` receives the key once it has been
 * read and its proof verified under a key registered on the chain.
 */
export function historyKeyEntry(
  ctx: PageContext,
  onKey: (key: PersonKey) => void,
): HTMLFormElement {
  const id = uid("history-key");
  const error = h("p", { id: `${id}-error`, class: "error-text", role: "alert", hidden: true });
  const input = h("textarea", {
    id,
    name: "historyKey",
    rows: 4,
    dir: "ltr",
    lang: "en",
    spellcheck: false,
    autocomplete: "off",
    autocapitalize: "characters",
    class: "history-key-input",
    "aria-describedby": `${id}-hint ${id}-error`,
  });
  const submit = h("button", { type: "submit", class: "button" }, t("keyOpen"));
  const form = h(
    "form",
    { class: "code-form history-key-form", novalidate: true },
    h("h2", {}, t("keyHave")),
    h("label", { for: id, class: "field-label" }, h("strong", {}, t("keyLabel"))),
    h("p", { id: `${id}-hint`, class: "hint" }, t("keyHint")),
    input,
    h("div", { class: "row" }, submit),
    error,
  );
  const refuse = (text: string) => {
    error.textContent = text;
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    submit.disabled = false;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.hidden = true;
    input.removeAttribute("aria-invalid");
    let parsed: HistoryKey;
    try {
      parsed = parseHistoryKey(input.value);
    } catch (e) {
      if (e instanceof HistoryKeyError) return refuse(historyKeyProblemText(ctx, e));
      return refuse(t("keyChecksum"));
    }
    submit.disabled = true;
    const status = h("p", { role: "status", class: "muted" }, t("keyChecking"));
    form.append(status);
    void (async () => {
      const r = await resolveHistoryKey(parsed);
      status.remove();
      if (!ctx.isCurrent()) return;
      if (!r.ok)
        return refuse(
          r.why === "not-issued"
            ? t("keyNotIssued")
            : r.why === "no-chain"
              ? t("historyNoChain")
              : t("historyChainRead", { detail: r.detail }),
        );
      input.value = "";
      submit.disabled = false;
      onKey(r.key);
    })();
  });
  return form;
}
