/**
 * The browser-side names the preview tests use inside `page.evaluate` callbacks, typed without
 * the DOM library (the Node-side tsconfig has none, and adding it would leak into every file).
 * Callbacks cast `globalThis` to `PageGlobals`; types only, nothing here runs.
 */

export interface PageEvent {
  readonly type: string;
}

export interface PageElement {
  value: string;
  textContent: string | null;
  dispatchEvent(e: PageEvent): boolean;
}

export interface PageCanvas extends PageElement {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}

/** `window.__attentionForgePreview` (webview/preview/main.ts). */
export interface PreviewHook {
  backend?: unknown;
  result?: { forwardMs: number };
  drawn?: { head: unknown };
  firstHeatmapMs?: number;
  error?: string;
  settled: Promise<void>;
  rerun(n: number): Promise<void>;
  [k: string]: unknown;
}

export interface PageGlobals {
  __attentionForgePreview?: PreviewHook;
  __afDeliver(m: unknown): void;
  document: { getElementById(id: string): PageElement | null; body: unknown };
  Event: new (type: string) => PageEvent;
  getComputedStyle(e: unknown): { color: string; backgroundColor: string };
  dispatchEvent(e: PageEvent): boolean;
  performance: { getEntriesByType(t: 'mark'): { name: string; startTime: number }[] };
}
