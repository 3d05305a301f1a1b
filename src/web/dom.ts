/**
 * A tiny element builder. Text is always set as text (never parsed as HTML), so nothing that
 * comes from the API or a receipt file can inject markup or script.
 */

export type Child = Node | string | number | false | null | undefined | readonly Child[];

type Attrs = Record<string, string | number | boolean | undefined | EventListener>;

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(el: Element, attrs: Attrs, children: readonly Child[]): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") {
      el.addEventListener(name.replace(/^on/, ""), value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
}

function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child as readonly Child[]);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child as string | number)));
  }
}

/**
 * An HTML element. Attributes whose value is a function and whose name starts with `on` become
 * event listeners (`onclick`, `onsubmit`); `false` and `undefined` attributes are left out.
 *
 * @example
 * h("a", { href: "#/batches", class: "nav" }, "Batches")
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs, children);
  return el;
}

/** An SVG element, same rules as `h`. */
export function s(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const el: SVGElement = document.createElementNS(SVG_NS, tag as "svg");
  apply(el, attrs, children);
  return el;
}

/** A unique id for label/aria wiring within this page load. */
let counter = 0;
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}
