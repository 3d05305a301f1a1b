/**
 * The viewer's language: Persian by default, English on request, remembered in localStorage.
 * Setting it updates `<html lang dir>`; pages re-render in the new language.
 */
import { message, type Lang, type MessageKey } from "./messages.ts";

export const LANG_STORAGE_KEY = "shafaf.lang";

let current: Lang = "fa";

function stored(): Lang | undefined {
  try {
    const value = localStorage.getItem(LANG_STORAGE_KEY);
    return value === "fa" || value === "en" ? value : undefined;
  } catch {
    return undefined; // storage disabled: fall back to the default every time
  }
}

/** Reads the remembered language (default Persian) and applies it to the document. */
export function initLang(): Lang {
  current = stored() ?? "fa";
  applyToDocument();
  return current;
}

/** The current language. */
export function lang(): Lang {
  return current;
}

/** Switches language, remembers it, and applies it to `<html>`. */
export function setLang(next: Lang): void {
  current = next;
  try {
    localStorage.setItem(LANG_STORAGE_KEY, next);
  } catch {
    // storage disabled: the choice lasts for this page only
  }
  applyToDocument();
}

/** Writing direction of the current language. */
export function dir(): "rtl" | "ltr" {
  return current === "fa" ? "rtl" : "ltr";
}

/** A message in the current language. */
export function t(key: MessageKey, params: Record<string, string> = {}): string {
  return message(current, key, params);
}

function applyToDocument(): void {
  const root = document.documentElement;
  root.lang = current;
  root.dir = dir();
}
