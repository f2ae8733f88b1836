/**
 * Drawing for the preview: heatmaps (one pixel per cell on a canvas scaled up by CSS, so maps
 * of thousands of tokens stay cheap) with axis labels and ticks, their colour legend, bars for
 * channel weights, and the interaction a heatmap offers — hover and a keyboard cell cursor
 * (arrow keys, Home/End, PageUp/PageDown) that report the row index, column index and value
 * through a callback and in a tooltip at the pointer (or at the cursor's cell), kept inside the
 * viewport. The colour scale is viridis, or black→white under a high-contrast theme; text and
 * borders take the editor's `--vscode-*` colours from CSS. Knows nothing about blocks or the
 * runtime.
 */

import { colour, valueRange } from './colour';

/** Whether the theme is a high-contrast one: maps are then drawn black → white. */
export function highContrast(): boolean {
  return document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
}

export interface HeatmapOptions {
  rows: number;
  cols: number;
  values: Float32Array;
  /** Longest side on screen, in CSS pixels. */
  size: number;
  label: string;
  rowName: string;
  colName: string;
  /** Called with the cell under the pointer or the keyboard cursor (undefined when it leaves). */
  onCell?: (cell: { row: number; col: number; value: number } | undefined) => void;
  /** Called on click / Enter. */
  onPick?: (cell: { row: number; col: number }) => void;
  /** A cell to mark (the picked query pixel). */
  marked?: { row: number; col: number };
  /** The range the colours span (several maps drawn on one scale); the values' own by default. */
  range?: { lo: number; hi: number };
  /** Draw the colour legend beside the map (default true). */
  legend?: boolean;
  /** Axis titles and tick labels (y: rows, x: columns). */
  axes?: { y: string; x: string; yTick: (i: number) => string; xTick: (i: number) => string; yStep?: number; xStep?: number };
  /** The tooltip's text for a cell (none without it). */
  tip?: (cell: { row: number; col: number; value: number }) => string;
}

// ------------------------------------------------------------------ tooltip

let tooltipEl: HTMLElement | undefined;

/** The page's one tooltip, outside the re-rendered tree so a render never strands it. */
function tooltip(): HTMLElement {
  if (!tooltipEl || !tooltipEl.isConnected) {
    tooltipEl = document.createElement('div');
    tooltipEl.id = 'tooltip';
    tooltipEl.className = 'tooltip';
    tooltipEl.setAttribute('role', 'tooltip');
    tooltipEl.hidden = true;
    document.body.append(tooltipEl);
  }
  return tooltipEl;
}

/**
 * Shows `text` next to the point (x, y) in viewport coordinates: below and to the right of it,
 * flipped to the other side where it would leave the viewport, and clamped inside it.
 */
export function showTooltip(text: string, x: number, y: number): void {
  const t = tooltip();
  t.textContent = text;
  t.hidden = false;
  const gap = 14;
  const w = t.offsetWidth;
  const h = t.offsetHeight;
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  let left = x + gap;
  let top = y + gap;
  if (left + w > vw - 4) left = x - gap - w;
  if (top + h > vh - 4) top = y - gap - h;
  t.style.left = `${Math.max(4, Math.min(left, vw - w - 4))}px`;
  t.style.top = `${Math.max(4, Math.min(top, vh - h - 4))}px`;
}

export function hideTooltip(): void {
  if (tooltipEl) tooltipEl.hidden = true;
}

/** Tick positions 0, step, 2·step… below n: the given step, else the smallest of 1, 2, 5, 10, 20… giving at most six ticks. */
export function ticks(n: number, step?: number): number[] {
  let s = step;
  for (let p = 1; s === undefined; p *= 10) for (const b of [1, 2, 5]) if (s === undefined && Math.ceil(n / (b * p)) <= 6) s = b * p;
  const out: number[] = [];
  for (let i = 0; i < n; i += Math.max(1, s)) out.push(i);
  return out;
}

function axisTicks(kind: 'x' | 'y', n: number, scale: number, label: (i: number) => string, step?: number): HTMLElement {
  const box = document.createElement('div');
  box.className = `ticks ${kind}-ticks`;
  box.setAttribute('aria-hidden', 'true');
  if (kind === 'y') box.style.height = `${n * scale}px`;
  else box.style.width = `${n * scale}px`;
  for (const i of ticks(n, step)) {
    const t = document.createElement('span');
    t.className = 'tick';
    t.textContent = label(i);
    t.dataset.index = String(i);
    if (kind === 'y') t.style.top = `${(i + 0.5) * scale}px`;
    else t.style.left = `${(i + 0.5) * scale}px`;
    box.append(t);
  }
  return box;
}

export interface Heatmap {
  element: HTMLElement;
  canvas: HTMLCanvasElement;
  range: { lo: number; hi: number };
}

/** A focusable heatmap canvas with hover and keyboard navigation. */
export function heatmap(o: HeatmapOptions): Heatmap {
  const canvas = document.createElement('canvas');
  canvas.width = o.cols;
  canvas.height = o.rows;
  canvas.className = 'heatmap';
  canvas.tabIndex = 0;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${o.label}: ${o.rows} ${o.rowName} × ${o.cols} ${o.colName}; use the arrow keys to read values`);
  const scale = Math.max(1, Math.floor(o.size / Math.max(o.rows, o.cols)));
  canvas.style.width = `${o.cols * scale}px`;
  canvas.style.height = `${o.rows * scale}px`;
  const range = o.range ?? valueRange(o.values);
  const grey = highContrast();
  const ctx = canvas.getContext('2d');
  if (ctx) {
    const img = ctx.createImageData(o.cols, o.rows);
    for (let i = 0; i < o.rows * o.cols; i++) {
      const [r, g, b] = colour((o.values[i] - range.lo) / (range.hi - range.lo), grey);
      img.data[4 * i] = r;
      img.data[4 * i + 1] = g;
      img.data[4 * i + 2] = b;
      img.data[4 * i + 3] = 255;
    }
    if (o.marked) {
      const i = o.marked.row * o.cols + o.marked.col;
      img.data.set([255, 0, 0, 255], 4 * i);
    }
    ctx.putImageData(img, 0, 0);
  }
  let cursor = { row: 0, col: 0 };
  // The cell cursor: an outline over the cell the pointer or the keyboard is on.
  const box = document.createElement('div');
  box.className = 'canvas-box';
  const mark = document.createElement('div');
  mark.className = 'cell-cursor';
  mark.hidden = true;
  mark.style.width = `${scale}px`;
  mark.style.height = `${scale}px`;
  box.append(canvas, mark);
  const report = (c: { row: number; col: number } | undefined, at?: { x: number; y: number }) => {
    if (!c) {
      mark.hidden = true;
      hideTooltip();
      o.onCell?.(undefined);
      return;
    }
    const cell = { ...c, value: o.values[c.row * o.cols + c.col] };
    mark.hidden = false;
    mark.style.left = `${c.col * scale}px`;
    mark.style.top = `${c.row * scale}px`;
    if (o.tip) {
      // From the keyboard, the tooltip sits at the cursor's cell.
      const r = canvas.getBoundingClientRect();
      const p = at ?? { x: r.left + ((c.col + 1) * r.width) / o.cols, y: r.top + ((c.row + 1) * r.height) / o.rows };
      showTooltip(o.tip(cell), p.x, p.y);
    }
    o.onCell?.(cell);
  };
  const cellAt = (e: MouseEvent) => {
    const rect = canvas.getBoundingClientRect();
    const col = Math.floor(((e.clientX - rect.left) / rect.width) * o.cols);
    const row = Math.floor(((e.clientY - rect.top) / rect.height) * o.rows);
    return row >= 0 && row < o.rows && col >= 0 && col < o.cols ? { row, col } : undefined;
  };
  canvas.addEventListener('mousemove', (e) => report(cellAt(e), { x: e.clientX, y: e.clientY }));
  canvas.addEventListener('mouseleave', () => report(undefined));
  canvas.addEventListener('click', (e) => {
    const c = cellAt(e);
    if (c) o.onPick?.(c);
  });
  canvas.addEventListener('focus', () => report(cursor));
  canvas.addEventListener('blur', () => report(undefined));
  canvas.addEventListener('keydown', (e) => {
    const page = Math.max(1, Math.floor(o.rows / 8));
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      PageUp: [-page, 0],
      PageDown: [page, 0],
      Home: [0, -o.cols],
      End: [0, o.cols],
    };
    if (e.key === 'Enter' || e.key === ' ') {
      o.onPick?.(cursor);
      e.preventDefault();
      return;
    }
    if (e.key === 'Escape') {
      hideTooltip();
      return;
    }
    const m = moves[e.key];
    if (!m) return;
    e.preventDefault();
    cursor = { row: Math.min(o.rows - 1, Math.max(0, cursor.row + m[0])), col: Math.min(o.cols - 1, Math.max(0, cursor.col + m[1])) };
    report(cursor);
  });
  const wrap = document.createElement('div');
  wrap.className = 'heatmap-wrap';
  let plot: HTMLElement = box;
  if (o.axes) {
    const a = o.axes;
    plot = document.createElement('div');
    plot.className = 'plot';
    const yl = document.createElement('div');
    yl.className = 'axis-label y-label';
    yl.textContent = a.y;
    const xl = document.createElement('div');
    xl.className = 'axis-label x-label';
    xl.textContent = a.x;
    plot.append(yl, axisTicks('y', o.rows, scale, a.yTick, a.yStep), box, document.createElement('div'), document.createElement('div'), axisTicks('x', o.cols, scale, a.xTick, a.xStep), document.createElement('div'), document.createElement('div'), xl);
  }
  wrap.append(plot);
  if (o.legend !== false) wrap.append(legend(range, grey, o.rows * scale));
  return { element: wrap, canvas, range };
}

/** A vertical colour bar with its low, middle and high values. */
export function legend(range: { lo: number; hi: number }, grey = highContrast(), height = 64): HTMLElement {
  const c = document.createElement('canvas');
  c.width = 1;
  c.height = 64;
  c.className = 'legend-bar';
  // A canvas keeps its aspect ratio: size it explicitly to the map beside it.
  c.style.height = `${Math.max(64, height)}px`;
  c.style.width = '12px';
  const ctx = c.getContext('2d');
  if (ctx) {
    const img = ctx.createImageData(1, 64);
    for (let i = 0; i < 64; i++) {
      const [r, g, b] = colour(1 - i / 63, grey);
      img.data.set([r, g, b, 255], 4 * i);
    }
    ctx.putImageData(img, 0, 0);
  }
  const labels = document.createElement('div');
  labels.className = 'legend-labels';
  for (const v of [range.hi, (range.lo + range.hi) / 2, range.lo]) {
    const s = document.createElement('span');
    s.textContent = fmt(v);
    labels.append(s);
  }
  const box = document.createElement('div');
  box.className = 'legend';
  box.setAttribute('aria-label', `colour scale from ${fmt(range.lo)} to ${fmt(range.hi)}`);
  box.append(c, labels);
  return box;
}

/** Horizontal bars, one per value (channel weights). */
export function bars(values: Float32Array, label: string, onCell?: (i: number | undefined) => void, tip?: (i: number) => string): HTMLElement {
  const n = values.length;
  const canvas = document.createElement('canvas');
  const bw = Math.max(2, Math.min(12, Math.floor(480 / Math.max(1, n))));
  canvas.width = n * bw;
  canvas.height = 80;
  canvas.className = 'bars';
  canvas.tabIndex = 0;
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${label}: ${n} values; use the arrow keys to read them`);
  const range = valueRange(values);
  const ctx = canvas.getContext('2d');
  if (ctx) {
    // Height and colour both encode the value, so the legend beside the bars reads the same way as a heatmap's.
    const grey = highContrast();
    for (let i = 0; i < n; i++) {
      const t = (values[i] - range.lo) / (range.hi - range.lo);
      const [r, g, b] = colour(t, grey);
      ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
      const h = Math.max(1, t * 78);
      ctx.fillRect(i * bw, 80 - h, Math.max(1, bw - 1), h);
    }
  }
  let cursor = 0;
  canvas.addEventListener('mousemove', (e) => {
    const r = canvas.getBoundingClientRect();
    const i = Math.floor(((e.clientX - r.left) / r.width) * n);
    const ok = i >= 0 && i < n;
    if (ok && tip) showTooltip(tip(i), e.clientX, e.clientY);
    else hideTooltip();
    onCell?.(ok ? i : undefined);
  });
  canvas.addEventListener('mouseleave', () => {
    hideTooltip();
    onCell?.(undefined);
  });
  canvas.addEventListener('blur', () => hideTooltip());
  canvas.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    e.preventDefault();
    cursor = Math.min(n - 1, Math.max(0, cursor + (e.key === 'ArrowLeft' ? -1 : 1)));
    if (tip) {
      const r = canvas.getBoundingClientRect();
      showTooltip(tip(cursor), r.left + ((cursor + 1) * r.width) / n, r.top + r.height / 2);
    }
    onCell?.(cursor);
  });
  const wrap = document.createElement('div');
  wrap.className = 'heatmap-wrap';
  wrap.append(canvas, legend(range, highContrast(), 80));
  return wrap;
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
  return v.toFixed(Math.abs(v) >= 100 ? 1 : 4).replace(/\.?0+$/, '') || '0';
}
