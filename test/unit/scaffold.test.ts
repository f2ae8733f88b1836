/**
 * The scaffold decisions (src/extension/scaffold.ts, insertion.ts): form fields from the catalog, evaluating
 * field texts into code or the catalog's validation messages, quick-pick validation, new file
 * names that never collide, and inserting generated code with only the missing imports.
 */

import * as assert from 'node:assert/strict';
import { allBlocks, getBlock } from '../../src/blocks/catalog';
import { blockEntries, evaluateChoice, filterBlocks, paramMenu, validateParamText } from '../../src/extension/scaffold';
import { baseFileName, freeFileName, importInsertLine, planInsertion, splitImports } from '../../src/extension/insertion';
import { languageAvailability } from '../../src/extension/generators';

describe('scaffold: form model', function () {
  it('lists every catalog block with a one-line summary and its parameters, main ones first', function () {
    const entries = blockEntries();
    assert.deepEqual(entries.map((e) => e.id), allBlocks().map((b) => b.id));
    for (const e of entries) {
      assert.ok(e.summary.length > 0 && !e.summary.includes('\n'), e.id);
      const firstNonMain = e.params.findIndex((p) => !p.main);
      assert.ok(firstNonMain === -1 || e.params.slice(firstNonMain).every((p) => !p.main), `${e.id}: main params first`);
      assert.equal(e.params.length, getBlock(e.id)!.params.length);
    }
  });

  it('generates code at the defaults for every block (field texts read back as the defaults)', function () {
    for (const e of blockEntries()) {
      const values = Object.fromEntries(e.params.map((p) => [p.name, p.defaultText]));
      const r = evaluateChoice({ blockId: e.id, values, language: 'pytorch' });
      assert.deepEqual(r.issues, [], e.id);
      assert.ok(r.code?.includes('class '), e.id);
      assert.ok(r.shapes.length >= 1, e.id);
    }
  });

  it('reports the catalog message for a cross-parameter violation, naming the field', function () {
    const r = evaluateChoice({ blockId: 'cnn-mha', values: { embed_dim: '100', num_heads: '8' }, language: 'pytorch' });
    assert.equal(r.code, null);
    assert.equal(r.issues.length, 1);
    assert.match(r.issues[0].message, /embed_dim \(100\) must be divisible by num_heads \(8\)/);
  });

  it('reports unparsable text per field without running the block checks', function () {
    const r = evaluateChoice({ blockId: 'cnn-mha', values: { embed_dim: 'abc', num_heads: '3' }, language: 'pytorch' });
    assert.deepEqual(r.issues.map((i) => i.param), ['embed_dim']);
    assert.match(r.issues[0].message, /must be an integer/);
  });

  it('reports an unknown block and an unavailable language as issues, never throwing', function () {
    assert.match(evaluateChoice({ blockId: 'nope', values: {}, language: 'pytorch' }).issues[0].message, /unknown block/);
    const ts = languageAvailability().find((l) => l.language === 'typescript')!;
    const r = evaluateChoice({ blockId: 'se', values: {}, language: 'typescript' });
    if (ts.available) assert.ok(r.code);
    else {
      assert.equal(r.code, null);
      assert.ok(ts.note && r.issues[0].message === ts.note);
    }
  });

  it('filters blocks by every word of the search text', function () {
    const ids = filterBlocks(blockEntries(), 'channel gating').map((b) => b.id);
    assert.ok(ids.includes('se'), ids.join());
    assert.deepEqual(filterBlocks(blockEntries(), 'zzzz'), []);
    assert.equal(filterBlocks(blockEntries(), '  ').length, allBlocks().length);
  });

  it('validates a quick-pick value: type and range', function () {
    const def = getBlock('cnn-mha')!.params.find((p) => p.name === 'num_heads')!;
    assert.equal(validateParamText(def, '4'), undefined);
    assert.match(validateParamText(def, 'four')!, /integer/);
    assert.match(validateParamText(def, '0')!, /≥ 1/);
  });

  it('offers Insert in the parameter menu only when every value is valid', function () {
    const ok = paramMenu('cnn-mha', { embed_dim: '64', num_heads: '8' });
    assert.ok(ok.valid);
    assert.equal(ok.items[0].param, undefined);
    const bad = paramMenu('cnn-mha', { embed_dim: '100', num_heads: '8' });
    assert.ok(!bad.valid);
    assert.match(bad.items[0].label, /Fix the values/);
  });
});

describe('scaffold: new files', function () {
  it('derives importable names', function () {
    assert.equal(baseFileName('cnn-mha', 'pytorch'), 'cnn_mha.py');
    assert.equal(baseFileName('cbam-channel', 'typescript'), 'cbamChannel.ts');
  });

  it('never picks an existing name', function () {
    const existing = new Set(['se.py', 'se_2.py']);
    assert.equal(freeFileName('se.py', (n) => existing.has(n)), 'se_3.py');
    assert.equal(freeFileName('eca.py', (n) => existing.has(n)), 'eca.py');
  });
});

describe('scaffold: inserting into a document', function () {
  const code = ['# header', 'import math', '', 'import torch', 'import torch.nn as nn', '', '', 'class A(nn.Module):', '    pass', ''].join('\n');

  it('splits imports from the body', function () {
    const s = splitImports(code, 'pytorch');
    assert.deepEqual(s.imports, ['import math', 'import torch', 'import torch.nn as nn']);
    assert.ok(s.body.startsWith('# header\n'));
    assert.ok(!s.body.includes('import'));
  });

  it('adds only the missing imports at the end of the import block and the body at the cursor', function () {
    const doc = ['"""Module."""', 'import torch', '', 'x = 1', ''].join('\n');
    const plan = planInsertion(doc, code, { line: 4, character: 0 }, 'pytorch');
    assert.equal(plan.length, 2);
    assert.deepEqual(plan[0], { line: 2, character: 0, text: 'import math\nimport torch.nn as nn\n' });
    assert.equal(plan[1].line, 4);
    assert.ok(plan[1].text.includes('class A(nn.Module):'));
    assert.ok(!plan[1].text.includes('import'));
  });

  it('adds no imports when the document has them all', function () {
    const doc = ['import math', 'import torch', 'import torch.nn as nn', '', ''].join('\n');
    const plan = planInsertion(doc, code, { line: 4, character: 0 }, 'pytorch');
    assert.equal(plan.length, 1);
  });

  it('puts everything at the cursor in an empty document or above the import block', function () {
    const plan = planInsertion('', code, { line: 0, character: 0 }, 'pytorch');
    assert.equal(plan.length, 1);
    assert.ok(plan[0].text.startsWith('import math\nimport torch\nimport torch.nn as nn\n'));
  });

  it('skips a module docstring and comments when the document has no imports', function () {
    assert.equal(importInsertLine(['#!/usr/bin/env python', '"""Doc', 'string."""', 'x = 1'], 'pytorch'), 3);
    assert.equal(importInsertLine(['x = 1'], 'pytorch'), 0);
  });

  it('starts the body on a new line when the cursor is mid-line', function () {
    const plan = planInsertion('import math\nimport torch\nimport torch.nn as nn\nx = 1', code, { line: 3, character: 5 }, 'pytorch');
    assert.ok(plan[plan.length - 1].text.startsWith('\n'));
  });

  it('TypeScript: imports only the names the document lacks, so no name is imported twice', function () {
    const block = (id: string) => evaluateChoice({ blockId: id, values: {}, language: 'typescript' }).code!;
    // A document holding one generated block, then a second one inserted at its end.
    const first = block('se');
    const second = block('cnn-mha');
    const lines = first.split('\n');
    const plan = planInsertion(first, second, { line: lines.length - 1, character: 0 }, 'typescript');
    const imports = plan.filter((p) => p.text.startsWith('import '));
    assert.equal(imports.length, 0, 'se already imports nn, Tensor and TorchError');
    const withF = planInsertion("import { nn } from 'attention-forge/runtime';\n\nconst x = 1;\n", "import { nn, Tensor } from 'attention-forge/runtime';\nimport type { Foo } from './foo';\n\nexport class A {}\n", { line: 3, character: 0 }, 'typescript');
    assert.deepEqual(withF[0], { line: 1, character: 0, text: "import { Tensor } from 'attention-forge/runtime';\nimport type { Foo } from './foo';\n" });
  });
});
