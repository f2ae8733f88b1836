/**
 * Syntax: Python source to a tree-sitter tree, with web-tree-sitter and the tree-sitter-python
 * grammar, both WebAssembly read from disk (never fetched). The runtime and the grammar are
 * loaded once per process by `initParser`; `parse` is synchronous afterwards. A tree with
 * syntax errors is still a tree: error nodes are data for the layers above.
 *
 * This layer does not know torch, scopes or shapes.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
// `import = require` makes bundlers resolve the package's CommonJS build, which locates its
// files without import.meta.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import TreeSitter = require('web-tree-sitter');
import type { Node, Tree } from 'web-tree-sitter';

const { Language, Parser } = TreeSitter;
type Parser = InstanceType<typeof TreeSitter.Parser>;

export type { Node, Tree };

let parser: Parser | undefined;
let loading: Promise<void> | undefined;

/**
 * Where a wasm file is: next to the running bundle first (dist/, where a packaged build copies
 * it), then in node_modules.
 */
function locate(file: string, pkg: string): string {
  const here = path.join(__dirname, file);
  if (fs.existsSync(here)) return here;
  return require.resolve(`${pkg}/${file}`);
}

/** Loads the tree-sitter runtime and the Python grammar once; later calls share the load. */
export function initParser(): Promise<void> {
  if (parser) return Promise.resolve();
  if (!loading) {
    loading = (async () => {
      const runtime = locate('tree-sitter.wasm', 'web-tree-sitter');
      await Parser.init({ locateFile: () => runtime, wasmBinary: fs.readFileSync(runtime) } as object);
      const lang = await Language.load(new Uint8Array(fs.readFileSync(locate('tree-sitter-python.wasm', 'tree-sitter-python'))));
      const p = new Parser();
      p.setLanguage(lang);
      parser = p;
    })();
    loading.catch(() => {
      loading = undefined;
    });
  }
  return loading;
}

export function parserReady(): boolean {
  return parser !== undefined;
}

/** Parses a whole file; `initParser` must have resolved. */
export function parse(source: string): Tree {
  if (!parser) throw new Error('initParser() has not completed');
  const tree = parser.parse(source);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}
