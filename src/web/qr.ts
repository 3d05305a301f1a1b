/**
 * A QR code as an inline SVG, drawn in this browser by `qrcode-generator` (bundled; nothing is
 * fetched). The text is encoded in the QR alphanumeric mode when every character allows it (the
 * history key and the certificate QR are designed for it: a smaller code), else as bytes.
 */
import qrcode from "qrcode-generator";
import { s } from "./dom.ts";

const ALPHANUMERIC = /^[0-9A-Z $%*+\-./:]*$/;

export interface QrCodeOptions {
  /** The accessible name of the image (what it holds, in words). */
  label: string;
  /** Error correction level (default M: 15 % of the code may be smudged). */
  level?: "L" | "M" | "Q" | "H";
}

/**
 * @example
 * sheet.append(qrCode("SHAFAF-CERT/1:7:…", { label: t("certQrLabel") }));
 */
export function qrCode(text: string, options: QrCodeOptions): SVGElement {
  const qr = qrcode(0, options.level ?? "M");
  qr.addData(text, ALPHANUMERIC.test(text) ? "Alphanumeric" : "Byte");
  qr.make();
  const n = qr.getModuleCount();
  const quiet = 4; // the quiet zone readers need, in modules
  let d = "";
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) if (qr.isDark(r, c)) d += `M${c + quiet} ${r + quiet}h1v1h-1z`;
  const size = n + 2 * quiet;
  return s(
    "svg",
    {
      class: "qr-code",
      viewBox: `0 0 ${size} ${size}`,
      role: "img",
      "aria-label": options.label,
      "shape-rendering": "crispEdges",
      "data-modules": n,
    },
    s("rect", { width: size, height: size, fill: "#fff" }),
    s("path", { d, fill: "#000" }),
  );
}
