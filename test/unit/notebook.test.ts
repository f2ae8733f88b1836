/**
 * Notebooks as one program (src/analysis/notebook.ts): IPython lines blanked line for line,
 * cell order (execution counts where recorded), the program ↔ (cell, line) map, analyses moved
 * back onto cells (diagnostics, fix edits, shapes), the .ipynb reader and its raw positions.
 * The fixture test/fixtures/notebooks/mha.ipynb has imports (and magics) in one cell, a module
 * in a later one and a call with the wrong width after a markdown cell.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cellOrder, cellPosition, cellPython, cellView, mapNotebookAnalysis, notebookProgram, programLine, rawPosition, readIpynb } from '../../src/analysis/notebook';
import type { IpynbNotebook, NotebookCell } from '../../src/analysis/notebook';
import { analyzeSource, ready } from './analysis.helpers';

const FIXTURE = path.resolve(__dirname, '../fixtures/notebooks/mha.ipynb');

function fixture(): IpynbNotebook {
  const nb = readIpynb(fs.readFileSync(FIXTURE, 'utf8'));
  if ('error' in nb) throw new Error(nb.error);
  return nb;
}

const code = (source: string, executionCount: number | null = null): NotebookCell => ({ kind: 'code', source, executionCount });

describe('notebooks as one program', function () {
  before(ready);

  it('blanks IPython lines line for line, keeping indented blocks valid', function () {
    assert.deepEqual(cellPython('%matplotlib inline\n!pip install torch\nfiles = !ls\nx = 1\nx?\nfor i in range(2):\n    %time f(i)\ny = x % 2'), ['', '', '', 'x = 1', '', 'for i in range(2):', '    pass', 'y = x % 2']);
    assert.deepEqual(cellPython('%%bash\nls -l\necho hi'), ['', '', '']);
    assert.deepEqual(cellPython('%%time\nz = torch.zeros(3)'), ['', 'z = torch.zeros(3)']);
    assert.deepEqual(cellPython('!echo a \\\n  b\nq = 1'), ['', '', 'q = 1']);
    assert.deepEqual(cellPython('a = 1\r\nb = a != 2'), ['a = 1', 'b = a != 2']);
  });

  it('orders cells by execution count, an unexecuted cell staying after the cell above it', function () {
    const md: NotebookCell = { kind: 'markdown', source: '# t' };
    assert.deepEqual(cellOrder([md, code('a', 3), code('b', 1), code('c'), code('d', 2)]), { order: 'execution', cells: [2, 3, 4, 1] });
    assert.deepEqual(cellOrder([code('a'), md, code('b')]), { order: 'document', cells: [0, 2] });
    assert.deepEqual(cellOrder([code('a', 1), code('b'), code('c', 5)]), { order: 'document', cells: [0, 1, 2] });
    const p = notebookProgram([code('x = 2', 2), md, code('import torch', 1)]);
    assert.equal(p.text, 'import torch\nx = 2\n');
    assert.equal(p.order, 'execution');
    assert.equal(notebookProgram([code('x = 2', 2), code('import torch', 1)], { order: 'document' }).text, 'x = 2\nimport torch\n');
  });

  it('maps every program line to its cell line and back', function () {
    const nb = fixture();
    const p = notebookProgram(nb.cells, { language: nb.language });
    assert.deepEqual(p.spans.map((s) => s.cell), [1, 2, 4]);
    const programLines = p.text.split('\n');
    for (const s of p.spans) {
      const cellLines = cellPython(nb.cells[s.cell].source);
      for (let l = 0; l < s.lines; l++) {
        assert.deepEqual(cellPosition(p, s.start + l), { cell: s.cell, line: l });
        assert.equal(programLine(p, s.cell, l), s.start + l);
        assert.equal(programLines[s.start + l], cellLines[l]);
      }
    }
    assert.equal(cellPosition(p, p.text.split('\n').length + 3), undefined);
    assert.equal(programLine(p, 0, 0), undefined, 'a markdown cell is not part of the program');
  });

  it('finds the mistaken call across cells and reports it on the module cell; cells alone find nothing', function () {
    const nb = fixture();
    const p = notebookProgram(nb.cells, { language: nb.language });
    const r = mapNotebookAnalysis(p, analyzeSource(p.text));
    assert.equal(r.diagnostics.length, 1, JSON.stringify(r.diagnostics));
    const d = r.diagnostics[0];
    assert.equal(d.rule, 'linear-in-features-mismatch');
    assert.equal(d.severity, 'error');
    assert.match(d.message, /64.*48/);
    assert.equal(d.cell, 2);
    const lines = nb.cells[2].source.split('\n');
    assert.equal(d.range.line, lines.findIndex((l) => l.includes('self.qkv(x)')));
    assert.equal(lines[d.range.line].slice(d.range.column, d.range.endColumn), 'self.qkv(x)');
    assert.ok(r.shapes.some((s) => s.cell === 4 && s.name === 'x' && s.shape === '(2, 10, 48)' && s.line === 0), JSON.stringify(r.shapes));
    // The starting point: each cell analysed on its own says nothing.
    for (const c of nb.cells.filter((c) => c.kind === 'code')) assert.deepEqual(analyzeSource(cellPython(c.source).join('\n')).diagnostics, []);
  });

  it('moves fix edits onto the cell they edit', function () {
    const cells = [
      code('import torch\nimport torch.nn as nn'),
      { kind: 'markdown', source: 'text' } as NotebookCell,
      code('%time\nx = torch.randn(2, 6, 4, 8)\ny = x.transpose(1, 2).view(2, 4, 48)'),
    ];
    const p = notebookProgram(cells);
    const r = mapNotebookAnalysis(p, analyzeSource(p.text));
    const d = r.diagnostics.find((x) => x.rule === 'view-after-permute');
    assert.ok(d, JSON.stringify(r.diagnostics));
    assert.equal(d.cell, 2);
    assert.equal(d.range.line, 2);
    const fix = d.fixes.find((f) => f.title === 'Use .reshape');
    assert.ok(fix);
    const lines = cells[2].source.split('\n');
    for (const e of fix.edits) {
      assert.equal(e.cell, 2);
      const l = lines[e.range.line];
      lines[e.range.line] = l.slice(0, e.range.column) + e.newText + l.slice(e.range.endColumn);
    }
    assert.equal(lines[2], 'y = x.transpose(1, 2).reshape(2, 4, 48)');
  });

  it("gives each cell its share: its diagnostics and shapes, and only fixes confined to it", function () {
    const nb = fixture();
    const p = notebookProgram(nb.cells, { language: nb.language });
    const r = mapNotebookAnalysis(p, analyzeSource(p.text));
    const module = cellView(r, 2);
    assert.deepEqual(module.diagnostics, r.diagnostics.filter((d) => d.cell === 2).map(({ cell: _cell, ...d }) => d));
    assert.deepEqual(cellView(r, 4).diagnostics, []);
    assert.deepEqual(cellView(r, 4).shapes.map((s) => [s.line, s.name, s.shape]), [[0, 'x', '(2, 10, 48)']]);
    const split = cellView(
      {
        diagnostics: [{ rule: 'r', severity: 'error', message: 'm', cell: 1, range: { line: 0, column: 0, endLine: 0, endColumn: 1 }, fixes: [{ title: 'here', edits: [{ cell: 1, range: { line: 0, column: 0, endLine: 0, endColumn: 1 }, newText: 'a' }] }, { title: 'across', edits: [{ cell: 1, range: { line: 0, column: 0, endLine: 0, endColumn: 1 }, newText: 'a' }, { cell: 0, range: { line: 0, column: 0, endLine: 0, endColumn: 0 }, newText: 'import torch\n' }] }] }],
        shapes: [],
        syntaxErrors: 0,
        notices: [{ cell: 1, line: 3, kind: 'budget', message: 'n' }],
      },
      1,
    );
    assert.deepEqual(split.diagnostics[0].fixes.map((f) => f.title), ['here']);
    assert.deepEqual(split.notices, [{ line: 3, kind: 'budget', message: 'n' }]);
  });

  it('skips code cells in another language', function () {
    assert.equal(notebookProgram([code('library(x)')], { language: 'R' }).spans.length, 0);
    assert.equal(notebookProgram([{ kind: 'code', source: 'x = 1', language: 'python' }, { kind: 'code', source: 'ls', language: 'shellscript' }]).text, 'x = 1\n');
  });

  it('reads .ipynb files and points into the raw text', function () {
    const nb = fixture();
    assert.equal(nb.cells.length, 5);
    assert.deepEqual(nb.cells.map((c) => c.kind), ['markdown', 'code', 'code', 'markdown', 'code']);
    assert.deepEqual(nb.cells.map((c) => c.executionCount), [null, 1, 2, null, 3]);
    assert.equal(nb.language, 'python');
    const raw = nb.raw.split('\n');
    // Every position of every code cell lands on the same character in the file.
    for (const [ci, c] of nb.cells.entries()) {
      c.source.split('\n').forEach((line, li) => {
        for (let col = 0; col < line.length; col++) {
          const at = rawPosition(nb, ci, li, col);
          assert.ok(at, `cell ${ci} line ${li} column ${col}`);
          const rawChar = raw[at.line].slice(at.column);
          const want = JSON.stringify(line[col]).slice(1, -1);
          const wantAscii = line.charCodeAt(col) > 127 ? `\\u${line.charCodeAt(col).toString(16).padStart(4, '0')}` : want;
          assert.ok(rawChar.startsWith(wantAscii), `cell ${ci} line ${li} column ${col}: ${rawChar.slice(0, 8)} vs ${wantAscii}`);
        }
      });
    }
    assert.deepEqual(readIpynb('{"cells": 3}'), { error: 'not a notebook: no "cells" array (only nbformat 4 is supported)' });
    const bad = readIpynb('{"cells": [}');
    assert.ok('error' in bad && /line 1, column 12/.test(bad.error), JSON.stringify(bad));
    const single = readIpynb('{"cells":[{"cell_type":"code","source":"a = 1\\nb = \\"\\u00e9\\"","execution_count":null}],"metadata":{"kernelspec":{"language":"R"}}}');
    assert.ok(!('error' in single));
    assert.equal(single.cells[0].source, 'a = 1\nb = "é"');
    assert.equal(single.language, 'R');
    const at = rawPosition(single, 0, 1, 4);
    assert.ok(at);
    assert.ok(single.raw.split('\n')[at.line].slice(at.column).startsWith('\\"\\u00e9'));
  });
});
