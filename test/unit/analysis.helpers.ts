/**
 * The one place tests call the analyzer, and the readers of the fixtures' annotations:
 * `# error: [rule]` / `# warning: [rule]` on the offending line, `# revealed: (B, 64, L)` on a
 * line whose assigned name has that inferred shape, `# expect: runs | raises T | differs-from F`
 * and `# requires: torch>=2` at the top of corpus programs.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze, AnalysisSession, initAnalyzer } from '../../src/analysis';
import type { Analysis } from '../../src/analysis';

export const CORPUS = path.resolve(__dirname, '../fixtures/corpus');
/** Programs written after the analyzer, to estimate how it generalizes (never tuned against). */
export const HELDOUT = path.resolve(__dirname, '../fixtures/heldout');
export const SHAPES = path.resolve(__dirname, '../fixtures/shapes');

export async function ready(): Promise<void> {
  await initAnalyzer();
}

export function analyzeSource(source: string, rules?: string[]): Analysis {
  return analyze(source, rules ? { rules } : {});
}

/** The editor's path: one session analysing successive versions of a document. */
export function session(): { analyze(source: string): Analysis; dispose(): void } {
  const s = new AnalysisSession();
  return { analyze: (source) => s.analyze(source), dispose: () => s.dispose() };
}

export interface Label {
  line: number;
  rule: string;
}

export function labels(source: string): Label[] {
  const out: Label[] = [];
  source.split('\n').forEach((l, i) => {
    for (const m of l.matchAll(/#\s*(?:error|warning):\s*\[([\w-]+)\]/g)) out.push({ line: i, rule: m[1] });
  });
  return out;
}

export interface CorpusProgram {
  file: string;
  name: string;
  source: string;
  labels: Label[];
  expect: { kind: 'runs' } | { kind: 'raises'; types: string[] } | { kind: 'differs'; twin: string };
  torch2Only: boolean;
}

export function corpus(dir: string = CORPUS): CorpusProgram[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.py'))
    .sort()
    .map((name) => {
      const file = path.join(dir, name);
      const source = fs.readFileSync(file, 'utf8');
      const head = /^# expect: (.*)$/m.exec(source)?.[1].trim() ?? '';
      let expect: CorpusProgram['expect'];
      if (head === 'runs') expect = { kind: 'runs' };
      else if (head.startsWith('raises ')) expect = { kind: 'raises', types: head.slice(7).trim().split('|') };
      else if (head.startsWith('differs-from ')) expect = { kind: 'differs', twin: path.join(dir, head.slice(13).trim()) };
      else throw new Error(`${name}: missing or malformed '# expect:' line`);
      return { file, name, source, labels: labels(source), expect, torch2Only: /^# requires: torch>=2$/m.test(source) };
    });
}
