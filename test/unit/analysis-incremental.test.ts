/**
 * The editor's incremental path gives exactly the cold result: for every corpus program (and a
 * file made of many of them, where units move up and down as lines come and go), a session
 * analyses a sequence of random one-line edits — a changed, inserted, deleted or duplicated
 * line, a changed number, a typed token, a comment — and after every edit its diagnostics
 * (with fixes), shapes and syntax error count must equal a cold analysis of the same text. So
 * must comments typed key by key between edits of code, most of which parse nothing.
 */

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AnalysisSession } from '../../src/analysis';
import { directCursors, grammar, parse, reparse, singleEdit, useDirectCursors } from '../../src/analysis/parse';
import { conversions, convert, Donor, lineStarts, type SyntaxNode } from '../../src/analysis/syntax';
import { analyzeSource, corpus, HELDOUT, ready, session } from './analysis.helpers';

/** Our driverless real-style modules: one unit per file, where an edit costs most. */
const MODULES = path.resolve(__dirname, '../fixtures/realstyle/modules');
const modules = () => fs.readdirSync(MODULES).filter((f) => f.endsWith('.py')).sort().map((f) => fs.readFileSync(path.join(MODULES, f), 'utf8'));

const EDITS_PER_FILE = 12;
const TOKENS = ['(', ')', ':', ',', 'x', ' + 1', '.transpose(1, 2)', '.view(B, -1)', ' @ k', '"""', '# (B, L, C)', '  # attention-forge: ignore', 'import math', 'class', '\\'];

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function edit(src: string, r: () => number): string {
  const ls = src.split('\n');
  const i = Math.floor(r() * ls.length);
  const k = Math.floor(r() * 7);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  if (k === 0) ls.splice(i, 1);
  else if (k === 1) ls.splice(i, 0, ls[i] ?? '');
  else if (k === 2) ls.splice(i, 0, r() < 0.5 ? '' : pick(['N_EXTRA = 3', 'x = torch.randn(2, 3)', '# comment', 'def helper(t):', '    return t']));
  else if (k === 3) ls[i] = (ls[i] ?? '').replace(/\b\d+\b/, pick(['1', '2', '3', '16', '64', '0']));
  else if (k === 4) {
    const l = ls[i] ?? '';
    const p = Math.floor(r() * (l.length + 1));
    ls[i] = l.slice(0, p) + pick(TOKENS) + l.slice(p);
  } else if (k === 5) ls[i] = (ls[i] ?? '') + '  # edit';
  else {
    const j = Math.floor(r() * ls.length);
    [ls[i], ls[j]] = [ls[j], ls[i]];
  }
  return ls.join('\n');
}

/** Every node with its type, flags, offsets, rows, columns, text, and the field of each child. */
function dump(n: SyntaxNode, out: string[] = []): string[] {
  const fieldNames = grammar().fields.filter((f): f is string => !!f);
  out.push(`${n.type} ${n.isNamed} ${n.hasError} ${n.isMissing} ${n.startOffset}-${n.endOffset} ${n.startPosition.row}:${n.startPosition.column}-${n.endPosition.row}:${n.endPosition.column} ${JSON.stringify(n.text)}`);
  for (const c of n.children) {
    out.push(`field: ${fieldNames.filter((f) => n.childrenForFieldName(f).includes(c)).join(',')}`);
    dump(c, out);
  }
  return out;
}

/** The whole tree converted (cut where the converter cuts; `cuts` hears the rows). */
function whole(source: string, tree: ReturnType<typeof parse>, donor?: Donor, cuts?: number[]): SyntaxNode {
  const cursor = tree.walk();
  try {
    return convert(cursor, grammar(), { row: 0, text: source }, 0, lineStarts(source), (row) => cuts?.push(row), donor);
  } finally {
    cursor.delete();
  }
}

describe('analyzer incremental sessions', function () {
  before(ready);

  it(`after random one-line edits, every corpus and held-out program analyses exactly as cold (${EDITS_PER_FILE} edits each)`, function () {
    const r = rng(7);
    const progs = [...corpus(), ...corpus(HELDOUT)];
    const files = [...progs.map((p) => p.source), ...modules(), progs.slice(0, 30).map((p) => p.source).join('\n\n')];
    let checked = 0;
    for (const [fi, original] of files.entries()) {
      const s = session();
      try {
        let src = original;
        assert.deepEqual(s.analyze(src), analyzeSource(src), `file ${fi}: first analysis`);
        for (let e = 0; e < (fi === files.length - 1 ? 60 : EDITS_PER_FILE); e++) {
          // Mostly small walks away from the original, sometimes back to it (undo).
          src = r() < 0.15 ? original : edit(src, r);
          const warm = s.analyze(src);
          const cold = analyzeSource(src);
          assert.deepEqual(warm, cold, `file ${fi}, edit ${e}: incremental differs from cold on\n${src}`);
          checked++;
        }
      } finally {
        s.dispose();
      }
    }
    console.log(`      ${checked} edited versions identical to cold analyses`);
  });

  it("the converter calls the runtime's cursor functions directly, and its trees equal those read through web-tree-sitter's cursor", function () {
    assert.equal(directCursors, true, "web-tree-sitter's runtime no longer exports the cursor functions the converter calls: conversions take the slower wrapper");
    const TORCH_NN = '/usr/lib/python3/dist-packages/torch/nn/modules';
    const installed = fs.existsSync(TORCH_NN) ? fs.readdirSync(TORCH_NN).filter((f) => f.endsWith('.py')).sort().map((f) => fs.readFileSync(path.join(TORCH_NN, f), 'utf8')) : [];
    // Deeper than the converter goes (its stack of cursor entries grows, the runtime's memory may too), and cut.
    const deep = `x = ${'('.repeat(900)}1${')'.repeat(900)}\ny = [${Array.from({ length: 3000 }, (_, i) => `f(${i}, k=${i})`).join(', ')}]\n`;
    const files = [...modules(), ...corpus().slice(0, 40).map((p) => p.source), ...installed, deep];
    let nodes = 0;
    try {
      for (const [fi, src] of files.entries()) {
        const tree = parse(src);
        try {
          useDirectCursors(true);
          const cutsDirect: number[] = [];
          const a = dump(whole(src, tree, undefined, cutsDirect));
          useDirectCursors(false);
          const cutsWrapped: number[] = [];
          const b = dump(whole(src, tree, undefined, cutsWrapped));
          assert.deepEqual(a, b, `file ${fi}`);
          assert.deepEqual(cutsDirect, cutsWrapped);
          nodes += a.length;
          // The cursor is left where the direct walk left it, in a state web-tree-sitter can go on with.
          useDirectCursors(true);
          const cursor = tree.walk();
          try {
            assert.ok(cursor.gotoFirstChild());
            convert(cursor, grammar(), { row: 0, text: src }, 0, lineStarts(src));
            assert.equal(cursor.nodeType, tree.rootNode.firstChild?.type);
            assert.equal(cursor.gotoNextSibling(), tree.rootNode.childCount > 1);
          } finally {
            cursor.delete();
          }
        } finally {
          tree.delete();
        }
      }
    } finally {
      useDirectCursors(true);
    }
    console.log(`      ${files.length} files (${installed.length} of torch's installed nn modules), ${nodes} node lines equal`);
    assert.ok(installed.length === 0 || installed.length > 20);
  });

  it('an edit converts only the nodes around it: the rest is copied from the previous parse, and the tree equals a fresh conversion', function () {
    const r = rng(11);
    let edits = 0;
    let read = 0;
    let copied = 0;
    for (const original of [...modules(), ...corpus().slice(0, 40).map((p) => p.source)]) {
      let src = original;
      let tree = parse(src);
      let nodes = whole(src, tree);
      for (let e = 0; e < 6; e++) {
        const next = edit(src, r);
        const change = singleEdit(src, next);
        const fresh = reparse(next, src, tree, change);
        tree.delete();
        tree = fresh;
        src = next;
        if (!change || tree.rootNode.hasError) {
          nodes = whole(src, tree);
          continue;
        }
        const donor = new Donor();
        donor.add(nodes.children, 0, { start: change.startIndex, oldEnd: change.oldEndIndex, newEnd: change.newEndIndex });
        const before = { ...conversions };
        const incremental = whole(src, tree, donor);
        read += conversions.read - before.read;
        copied += conversions.copied - before.copied;
        nodes = whole(src, tree);
        assert.deepEqual(dump(incremental), dump(nodes), `edit ${e} of:\n${src}`);
        edits++;
      }
      tree.delete();
    }
    console.log(`      ${edits} edits: ${read} nodes read from tree-sitter, ${copied} copied from the previous parse`);
    assert.ok(edits > 100 && copied > 5 * read, 'most nodes of an edited file are copied, not read again');
  });

  it('in a session, a comment typed in a class is answered without parsing; the next edit of another kind converts a few nodes of it', function () {
    const original = modules()[0];
    const lines = original.split('\n');
    const at = lines.findIndex((l) => /^\s+\w+ = /.test(l) && !l.includes('#'));
    const s = new AnalysisSession();
    try {
      s.analyze(original);
      const edited = [...lines];
      for (const note of ['  # w', '  # why', '  # why not']) {
        edited[at] = lines[at] + note;
        const text = edited.join('\n');
        const before = { ...conversions };
        const warm = s.analyze(text);
        assert.deepEqual(conversions, before, 'nothing was converted');
        assert.deepEqual(warm, analyzeSource(text), note);
        assert.equal(s.last.parsed, false, note);
        assert.equal(s.last.evaluated, 0);
      }
      // A bracket makes it a comment the evaluator may read: parsed, the line converted again.
      edited[at] = lines[at] + '  # why (not)';
      const text = edited.join('\n');
      const before = { ...conversions };
      const warm = s.analyze(text);
      const read = conversions.read - before.read;
      const copied = conversions.copied - before.copied;
      assert.deepEqual(warm, analyzeSource(text));
      assert.equal(s.last.parsed, true);
      assert.ok(read > 0 && read < 80 && copied > 5 * read, `read ${read}, copied ${copied}`);
    } finally {
      s.dispose();
    }
  });

  it('comments typed, edited and deleted key by key, between edits of code, analyse exactly as cold; those nothing reads parse nothing', function () {
    const r = rng(23);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
    const NOTES = ['why', 'see the paper', 'x: (B, N, C)', 'attention-forge: ignore', 'type: ignore', '-> [B, C]', 'TODO'];
    const files = [...modules(), ...corpus(HELDOUT).slice(0, 4).map((p) => p.source)];
    // One file with Windows line ends: the comment sits before the \r.
    files.push(modules()[1].replace(/\n/g, '\r\n'));
    let steps = 0;
    let unparsed = 0;
    for (const [fi, original] of files.entries()) {
      const s = new AnalysisSession();
      try {
        let src = original;
        s.analyze(src);
        const step = (next: string, what: string) => {
          src = next;
          assert.deepEqual(s.analyze(src), analyzeSource(src), `file ${fi}: ${what}:\n${src}`);
          steps++;
          if (!s.last.parsed) unparsed++;
        };
        for (let round = 0; round < 3; round++) {
          const ls = src.split('\n');
          const i = Math.floor(r() * ls.length);
          const cr = ls[i].endsWith('\r') ? '\r' : '';
          const line = cr ? ls[i].slice(0, -1) : ls[i];
          const hash = line.indexOf('#');
          const kind = Math.floor(r() * 4);
          if (kind === 0 || hash < 0) {
            // Type a comment at the end of the line, key by key, then delete it again.
            const typed = `  # ${pick(NOTES)}`;
            for (let k = 1; k <= typed.length; k++) {
              ls[i] = line + typed.slice(0, k) + cr;
              step(ls.join('\n'), `typing on line ${i + 1}`);
            }
            if (r() < 0.5) {
              ls[i] = line + cr;
              step(ls.join('\n'), `deleting on line ${i + 1}`);
            }
          } else if (kind === 1) {
            // Type inside the comment the line has, then delete a word of it.
            const p = hash + 1 + Math.floor(r() * (line.length - hash));
            const word = ` ${pick(NOTES)}`;
            for (let k = 1; k <= word.length; k += 3) {
              ls[i] = line.slice(0, p) + word.slice(0, k) + line.slice(p) + cr;
              step(ls.join('\n'), `typing in the comment of line ${i + 1}`);
            }
            ls[i] = line.slice(0, Math.max(hash + 1, p - 4)) + line.slice(p) + cr;
            step(ls.join('\n'), `cutting the comment of line ${i + 1}`);
          } else if (kind === 2) {
            // Delete the comment, blanks before it and all.
            ls[i] = line.slice(0, hash).replace(/[ \t]+$/, '') + cr;
            step(ls.join('\n'), `deleting the comment of line ${i + 1}`);
          } else {
            step(edit(src, r), 'an edit of code');
          }
        }
      } finally {
        s.dispose();
      }
    }
    console.log(`      ${steps} edits identical to cold analyses, ${unparsed} of them answered without parsing`);
    assert.ok(unparsed * 2 > steps, 'most keys typed in comments parse nothing');
  });

  it('a comment is parsed where it may change the tree or be read: in a string, after a backslash, a suppression, a shape', function () {
    const text = (doc: string, cont: string, tail: string) =>
      ['import torch', 'from torch import nn', '', '', 'class Block(nn.Module):', '    def forward(self, x):', `        """Mixes tokens.${doc}`, '        """', `        n = x.shape[0] + \\${cont}`, '            1', `        y = x.transpose(1, 2).transpose(2, 3)${tail}`, '        return y', ''].join('\n');
    const s = new AnalysisSession();
    try {
      s.analyze(text('', '', ''));
      for (const [doc, cont, tail, parsed] of [
        ['', '', '  # a note', false],
        ['  # in the docstring', '', '  # a note', true],
        ['  # in the docstring', '  # after a backslash', '  # a note', true],
        ['  # in the docstring', '', '  # a note', true],
        ['  # in the docstring', '', '  # attention-forge: ignore', true],
        ['  # in the docstring', '', '  # a note', true],
        ['  # in the docstring', '', '  # (B, N, C, D)', true],
        ['  # in the docstring', '', '  # (B, N, C, D) then', true],
        ['  # in the docstring', '', '', true],
        ['  # in the docstring', '', '  # a', false],
        ['  # in the docstring', '', '  # another', false],
      ] as const) {
        const edited = text(doc, cont, tail);
        assert.deepEqual(s.analyze(edited), analyzeSource(edited), `${doc} / ${cont} / ${tail}`);
        assert.equal(s.last.parsed, parsed, `${doc} / ${cont} / ${tail}`);
      }
    } finally {
      s.dispose();
    }
  });

  it("a module's docstring is evaluated by no unit: editing it, brackets and all, evaluates nothing", function () {
    const text = (doc: string) => [`"""${doc}`, '"""', 'import torch', '', '', 'def f(x):', '    return x.transpose(1, 2)', '', '', 'y = f(torch.zeros(2, 3, 4))', ''].join('\n');
    const s = new AnalysisSession();
    try {
      s.analyze(text('Blocks (B, N, C).'));
      for (const doc of ['Blocks (B, N, C) and more.', 'Blocks [B, N, C].']) {
        const edited = text(doc);
        const warm = s.analyze(edited);
        assert.deepEqual(warm, analyzeSource(edited));
        assert.equal(s.last.evaluated, 0, doc);
        assert.equal(warm.shapes.find((x) => x.name === 'y')?.shape, '(2, 4, 3)');
      }
      // An f-string evaluates what it interpolates: it is code, not a docstring.
      const interpolated = text('Blocks').replace('"""Blocks', 'f"""Blocks {f(torch.zeros(2, 3, 4)).shape}');
      s.analyze(interpolated);
      assert.equal(s.last.evaluated, 1);
    } finally {
      s.dispose();
    }
  });

  it('does not reuse the bare pieces error recovery leaves at the top level (`result`, `=`, `y`) as the statement they spell', function () {
    const original = fs.readFileSync(path.join(HELDOUT, 'blog_pam_missing_permute.py'), 'utf8');
    // A comment typed into a call leaves its bracket open; recovery then parses `result = y`
    // further down as three top-level pieces without an error node of their own.
    const broken = original
      .replace('kernel_size=1)\n        self.softmax', 'kernel_size=# (B, L, C)1)\n        self.softmax')
      .replace('#%%', 'N_EXTRA = 3\n#%%');
    assert.notEqual(broken, original);
    const s = session();
    try {
      s.analyze(broken);
      const warm = s.analyze(original);
      assert.deepEqual(warm, analyzeSource(original));
      assert.ok(warm.shapes.some((x) => x.name === 'result'));
    } finally {
      s.dispose();
    }
  });

  it('a statement the parser split around an error is not reused once the error is gone', function () {
    // With a comment typed inside a call, error recovery leaves `result = y` as `result`, a bare
    // `=` and `y`: no error node in that line, but not the assignment it is without the error.
    const original = fs.readFileSync(path.join(HELDOUT, 'blog_pam_missing_permute.py'), 'utf8');
    const broken = original
      .replace('kernel_size=1)\n        self.softmax', 'kernel_size=# (B, L, C)1)\n        self.softmax')
      .replace('#%%', 'N_EXTRA = 3\n#%%')
      .replace('print(y.size())', 'xprint(y.size())');
    assert.notEqual(broken, original);
    const s = session();
    try {
      assert.deepEqual(s.analyze(broken), analyzeSource(broken));
      const warm = s.analyze(original);
      assert.deepEqual(warm, analyzeSource(original));
      assert.ok(warm.shapes.some((r) => r.name === 'result'));
    } finally {
      s.dispose();
    }
  });

  it('an edit of a comment that declares no shape, or of a docstring\'s prose, evaluates nothing and gives the cold result; a shape comment re-evaluates', function () {
    let cut = 0;
    let evaluated = 0;
    for (const original of [...modules(), ...corpus(HELDOUT).map((p) => p.source)]) {
      const lines = original.split('\n');
      const s = new AnalysisSession();
      try {
        s.analyze(original);
        // Every tenth line gets a trailing comment, then another text in its place (typing it).
        for (let i = 3; i < lines.length; i += 10) {
          for (const note of ['  # why', '  # why this is so']) {
            const edited = [...lines];
            edited[i] = lines[i] + note;
            const text = edited.join('\n');
            const warm = s.analyze(text);
            assert.deepEqual(warm, analyzeSource(text), `line ${i + 1} + '${note}':\n${text}`);
            if (s.last.evaluated === 0) cut++;
            else evaluated++;
          }
        }
        // A comment the evaluator reads is no comment to skip: a shape comment on a line.
        const at = lines.findIndex((l) => /^\s+\w+ = self\.\w+\(\w+\)$/.test(l));
        if (at >= 0) {
          const edited = [...lines];
          edited[at] += '  # (B, N, C)';
          s.analyze(edited.join('\n'));
          assert.ok(s.last.evaluated > 0, `a shape comment on line ${at + 1} must re-evaluate its unit`);
        }
      } finally {
        s.dispose();
      }
    }
    console.log(`      ${cut} comment edits reused every unit, ${evaluated} re-evaluated a unit (a comment after a line continuation is a syntax error, and a unit with one is never reused), all identical to cold`);
    assert.ok(evaluated * 100 < cut, 'a comment edit that declares no shape must cost no evaluation');
  });

  it("a docstring's prose is no reason to re-evaluate; a shape it declares is", function () {
    const text = (prose: string, shape: string) =>
      ['import torch', 'from torch import nn', '', '', 'class Block(nn.Module):', '    def forward(self, x):', '        """Mixes tokens.', '', `        ${prose}`, `        ${shape}`, '        """', '        y = x.transpose(1, 2)', '        return y', ''].join('\n');
    const s = new AnalysisSession();
    try {
      s.analyze(text('What the block does.', 'x: (B, N, C)'));
      const prose = text('What the block does, at length.', 'x: (B, N, C)');
      assert.deepEqual(s.analyze(prose), analyzeSource(prose));
      assert.equal(s.last.evaluated, 0, 'an edit of prose evaluates nothing');
      const shape = text('What the block does, at length.', 'x: (B, T, C)');
      const warm = s.analyze(shape);
      assert.deepEqual(warm, analyzeSource(shape));
      assert.equal(s.last.evaluated, 1, 'an edit of the declared shape re-evaluates its unit');
      assert.equal(warm.shapes.find((r) => r.name === 'y')?.shape, '(B, C, T)');
    } finally {
      s.dispose();
    }
  });

  it("a docstring's brackets with no comma inside are prose; a comma in a bracket, or a bracket left open, re-evaluates", function () {
    const text = (line: string) =>
      ['import torch', 'from torch import nn', '', '', 'class Block(nn.Module):', '    def forward(self, x):', '        """Mixes tokens.', '', '        x (Tensor): the input', `        ${line}`, '        """', '        y = x.transpose(1, 2)', '        return y', ''].join('\n');
    const s = new AnalysisSession();
    try {
      s.analyze(text('A (13 x 17) matrix [see above].'));
      // Typed word by word (an open bracket re-evaluates until it closes): every step a bracket
      // group with no comma, or none at all.
      let typed = 'A (13 x 17) matrix [see above].';
      for (const word of [' It', ' is', ' (transposed)', ' {twice}', ' [4 x 4]', ' (Tensor)']) {
        typed += word;
        const t = text(typed);
        assert.deepEqual(s.analyze(t), analyzeSource(t));
        assert.equal(s.last.evaluated, 0, `no evaluation for ${JSON.stringify(typed)}`);
      }
      // A comma in a bracket may be a shape (`(B, N, C)`): re-evaluated, and read.
      for (const line of ['x: (B, N, C)', 'A (13, 17) matrix.', 'An open (bracket']) {
        const t = text(line);
        const warm = s.analyze(t);
        assert.deepEqual(warm, analyzeSource(t));
        assert.equal(s.last.evaluated, 1, `re-evaluated for ${JSON.stringify(line)}`);
      }
      assert.equal(s.analyze(text('x: (B, N, C)')).shapes.find((r) => r.name === 'y')?.shape, '(B, C, N)');
      // A blank line after the first line of text is prose: typing on it evaluates nothing.
      const blank = text('x: (B, N, C)');
      const filled = blank.replace('Mixes tokens.\n\n', 'Mixes tokens.\nAt length.\n');
      assert.notEqual(filled, blank);
      assert.deepEqual(s.analyze(filled), analyzeSource(filled));
      assert.equal(s.last.evaluated, 0, 'a blank line of a docstring filled in');
      // Before it, a blank line is kept: a shape right after the opening quotes may follow it.
      const lead = ['import torch', '', '', 'def pad(x):', '    """', '', '    (B, T) x -> (B, T)', '    """', '    y = x.sum(-1)', '    return y', ''].join('\n');
      s.analyze(lead);
      const led = lead.replace('"""\n\n', '"""\nPads.\n');
      assert.deepEqual(s.analyze(led), analyzeSource(led));
      assert.equal(s.last.evaluated, 1, 'a blank line before the text filled in');
    } finally {
      s.dispose();
    }
  });

  it("a comment inside an expression, a note after a shape comment and a docstring's first and last lines of prose are no reason to re-evaluate", function () {
    const text = (note: string, first: string, last: string) =>
      ['import torch', 'from torch import nn', '', '', 'class Block(nn.Module):', '    def __init__(self, dim):', '        super().__init__()', '        self.net = nn.Sequential(', `            nn.Linear(dim, dim),  # ${note}`, '            nn.GELU(),', '        )', '', '    def forward(self, x):', `        """${first}`, '', '        x: (B, N, C)', `        ${last}"""`, '        return self.net(x).transpose(1, 2)', ''].join('\n');
    const s = new AnalysisSession();
    try {
      s.analyze(text('the first layer', 'Mixes tokens.', 'That is all.'));
      for (const [note, first, last] of [['the first layer, wide', 'Mixes tokens.', 'That is all.'], ['the first layer, wide', 'Mixes the tokens.', 'That is all.'], ['the first layer, wide', 'Mixes the tokens.', 'That is all, really.']]) {
        const edited = text(note, first, last);
        assert.deepEqual(s.analyze(edited), analyzeSource(edited));
        assert.equal(s.last.evaluated, 0, `${note} / ${first} / ${last}`);
      }
      // A bracket makes a comment one the evaluator may read; a note after it, `# …` with no
      // bracket and no arrow, is not read.
      const shaped = text('(B, N, C)', 'Mixes the tokens.', 'That is all, really.');
      assert.deepEqual(s.analyze(shaped), analyzeSource(shaped));
      assert.equal(s.last.evaluated, 1);
      const noted = text('(B, N, C)  # the first layer', 'Mixes the tokens.', 'That is all, really.');
      assert.deepEqual(s.analyze(noted), analyzeSource(noted));
      assert.equal(s.last.evaluated, 0);
      const arrow = text('(B, N, C)  # -> (B, N, D)', 'Mixes the tokens.', 'That is all, really.');
      assert.deepEqual(s.analyze(arrow), analyzeSource(arrow));
      assert.equal(s.last.evaluated, 1);
    } finally {
      s.dispose();
    }
  });

  it('does not reuse a fix written from text that a comment edit changed: the fix keeps the comment as typed', function () {
    const text = (note: string) =>
      ['import torch', 'import torch.nn as nn', 'import torch.nn.functional as F', '', '', 'class Attn(nn.Module):', '    def __init__(self, dim: int = 64, heads: int = 8):', '        super().__init__()', '        self.heads = heads', '        self.qkv = nn.Linear(dim, 3 * dim)', '', '    def forward(self, x, pad_mask: torch.Tensor = None):', '        b, n, c = x.shape', '        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)', '        keep = ~pad_mask[:, None, :, None]', `        y = F.scaled_dot_product_attention(q, k, v, attn_mask=(keep  # ${note}`, '                                                               ))', '        return y', ''].join('\n');
    const fixed = (a: ReturnType<typeof analyzeSource>) => a.diagnostics.flatMap((d) => d.fixes.flatMap((f) => f.edits.map((e) => e.newText)));
    const s = new AnalysisSession();
    try {
      assert.ok(fixed(s.analyze(text('which keys'))).some((t) => t.includes('# which keys')));
      // The key leaves the comment out, but the fix replaces the text that holds it.
      const edited = text('which keys count');
      const warm = s.analyze(edited);
      assert.deepEqual(warm, analyzeSource(edited));
      assert.ok(fixed(warm).some((t) => t.includes('# which keys count')));
      assert.equal(s.last.evaluated, 1);
    } finally {
      s.dispose();
    }
  });

  it('what the cache key leaves out changes no result: comments cost no evaluation step, and a fix writes math only where the file imports it', function () {
    // A call tree that evaluates one function about a thousand times exhausts the step budget when
    // comments count as statements: with comments or blank lines there, the result is one.
    const deep = (filler: string) => {
      const ls = ['import torch', '', 'def h10(x):', '    x = x + 0', ...Array.from({ length: 70 }, () => filler), '    return x', ''];
      for (let i = 9; i >= 0; i--) ls.push(`def h${i}(x):`, `    return h${i + 1}(h${i + 1}(x))`, '');
      ls.push('def f():', '    return h0(torch.zeros(2, 3)).transpose(0, 5)', '');
      return ls.join('\n');
    };
    const comments = analyzeSource(deep('    # note'));
    assert.deepEqual(comments, analyzeSource(deep('')));
    assert.ok(comments.diagnostics.some((d) => d.rule === 'input-rank-mismatch'), 'the out-of-range transpose at the end is reached');
    // `math.sqrt` only where the file imports math, under its name: never from a docstring's prose.
    const attn = (head: string, doc: string) =>
      [...head.split('\n'), 'import torch', 'import torch.nn as nn', '', '', 'class Attn(nn.Module):', '    """Attention.', '', `    ${doc}`, '    """', '', '    def __init__(self, dim: int = 64, heads: int = 8):', '        super().__init__()', '        self.heads = heads', '        self.d_k = dim // heads', '        self.qkv = nn.Linear(dim, 3 * dim)', '', '    def forward(self, x):', '        b, n, c = x.shape', '        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, self.d_k).permute(2, 0, 3, 1, 4)', '        scores = q @ k.transpose(-2, -1) / self.d_k', '        return scores.softmax(-1) @ v', ''].join('\n');
    const fixText = (a: ReturnType<typeof analyzeSource>) => a.diagnostics.find((d) => d.rule === 'attention-scale-mismatch')?.fixes[0]?.edits[0]?.newText;
    const s = new AnalysisSession();
    try {
      assert.equal(fixText(s.analyze(attn('', 'import math'))), 'self.d_k ** 0.5');
      const other = attn('', 'no import here');
      assert.deepEqual(s.analyze(other), analyzeSource(other));
      assert.equal(fixText(s.analyze(attn('import math as m', 'import math'))), 'm.sqrt(self.d_k)');
    } finally {
      s.dispose();
    }
  });
});
