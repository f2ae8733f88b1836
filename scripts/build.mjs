// Builds the extension (minified: activation time is mostly parsing it), the analyzer it loads
// lazily, and the CLI bundles with esbuild, the form webview bundle into
// dist/webview/ (the webview's only local resource root), and copies the parser's
// WebAssembly next to the bundles (src/analysis/parse.ts looks there first, so the packaged
// extension needs no node_modules). First it writes the generated sources: the WASM SIMD
// kernels as bytes (scripts/gen-wasm.ts → src/runtime/wasm/kernels.generated.ts) and the
// compiled block twins (scripts/gen-twins.ts → src/generated/twins/), which the CLI and the
// webview import: blocks run from ordinary bundled classes, never from evaluated source text.
// The runtime is also built as the npm package's `attention-forge/runtime` (what generated
// TypeScript blocks import): dist/runtime/index.js (CommonJS), index.mjs (ES module, for
// bundlers and browsers) and its declarations in dist/types/ (tsconfig.runtime.json). Those three
// are also packed alone, as a package named `attention-forge` with only the `./runtime` export, into
// dist/attention-forge-runtime.tgz: the extension carries it and offers it to TypeScript projects
// that receive a generated block (src/extension/runtime-dependency.ts), since no registry serves it.
//   node scripts/build.mjs            one production build
//   node scripts/build.mjs --watch    rebuild on change
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'info',
};
// The extension loads the analyzer and the catalog-backed scaffold code on first use with
// `import()`; each is a bundle of its own (dist/analysis.js, dist/scaffold.js), so activation
// neither parses nor runs their code. Only dynamic imports from src/extension are redirected.
const LAZY = { 'src/analysis/index.ts': './analysis.js', 'src/extension/scaffold.ts': './scaffold.js', 'src/extension/preview-model.ts': './preview-model.js' };
const lazyBundles = {
  name: 'lazy-bundles',
  setup(build) {
    build.onResolve({ filter: /(^|\/)(analysis|scaffold|preview-model)$/ }, (args) => {
      if (args.kind !== 'dynamic-import' || !/src[\\/]extension([\\/]|$)/.test(args.resolveDir)) return undefined;
      const target = path.relative(process.cwd(), path.join(args.resolveDir, args.path)).split(path.sep).join('/');
      const out = LAZY[`${target}.ts`] ?? LAZY[`${target}/index.ts`];
      return out ? { path: out, external: true } : undefined;
    });
  },
};
const builds = [
  { ...common, entryPoints: ['src/extension/main.ts'], outfile: 'dist/extension.js', external: ['vscode'], minify: true, plugins: [lazyBundles] },
  { ...common, entryPoints: ['src/analysis/index.ts'], outfile: 'dist/analysis.js', minify: true },
  // The analyzer's thread in the editor (src/extension/analysis-worker.ts): the analyzer and one session per document.
  { ...common, entryPoints: ['src/extension/analysis-worker.ts'], outfile: 'dist/analysis-worker.js', minify: true },
  // Preview module's thread (src/extension/module-worker.ts): the interpreter and the runtime, one run per thread.
  { ...common, entryPoints: ['src/extension/module-worker.ts'], outfile: 'dist/module-worker.js', minify: true, keepNames: true },
  { ...common, entryPoints: ['src/extension/scaffold.ts'], outfile: 'dist/scaffold.js', minify: true },
  { ...common, entryPoints: ['src/extension/preview-model.ts'], outfile: 'dist/preview-model.js', minify: true }, // preview panel (issue 5)
  // The runtime for TypeScript users (package.json `exports['./runtime']`); not minified, so stack traces read.
  { ...common, platform: 'neutral', entryPoints: ['src/runtime/index.ts'], outfile: 'dist/runtime/index.js', keepNames: true },
  { ...common, platform: 'neutral', format: 'esm', entryPoints: ['src/runtime/index.ts'], outfile: 'dist/runtime/index.mjs', keepNames: true },
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', external: ['webgpu'], keepNames: true, banner: { js: '#!/usr/bin/env node' } },
  // The webview runs in a browser frame under a CSP without eval: an IIFE, minified, no Node.
  { ...common, platform: 'browser', format: 'iife', target: 'chrome120', minify: true, entryPoints: ['webview/form/main.ts'], outfile: 'dist/webview/form.js' },
  // Preview panel (issue 5): the runtime, the compiled twins and the page; same CSP constraints.
  { ...common, platform: 'browser', format: 'iife', target: 'chrome120', minify: true, keepNames: true, entryPoints: ['webview/preview/main.ts'], outfile: 'dist/webview/preview.js' },
  // The preview's worker (issue 14): the forward pass off the page's thread; same CSP constraints.
  { ...common, platform: 'browser', format: 'iife', target: 'chrome120', minify: true, keepNames: true, entryPoints: ['webview/preview/worker.ts'], outfile: 'dist/webview/preview-worker.js' },
];

function copyAssets() {
  fs.mkdirSync('dist/webview', { recursive: true });
  fs.copyFileSync('webview/form/form.css', 'dist/webview/form.css');
  fs.copyFileSync('webview/preview/preview.css', 'dist/webview/preview.css'); // preview panel (issue 5)
  fs.copyFileSync('node_modules/web-tree-sitter/tree-sitter.wasm', 'dist/tree-sitter.wasm');
  fs.copyFileSync('node_modules/tree-sitter-python/tree-sitter-python.wasm', 'dist/tree-sitter-python.wasm');
}

function generateSources() {
  for (const script of ['scripts/gen-wasm.ts', 'scripts/gen-twins.ts']) execFileSync(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit' });
}

function runtimeDeclarations() {
  fs.rmSync('dist/types', { recursive: true, force: true });
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.runtime.json'], { stdio: 'inherit' });
}

// The runtime alone as an npm tarball (see the header): a staging folder with its own manifest
// (same name and version as ours, the `./runtime` export and `typesVersions` only), packed by npm.
function packRuntime() {
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'af-runtime-pack-'));
  try {
    for (const f of ['index.js', 'index.mjs']) {
      fs.mkdirSync(path.join(stage, 'dist/runtime'), { recursive: true });
      fs.copyFileSync(path.join('dist/runtime', f), path.join(stage, 'dist/runtime', f));
    }
    fs.cpSync('dist/types', path.join(stage, 'dist/types'), { recursive: true });
    const manifest = {
      name: pkg.name,
      version: pkg.version,
      description: 'The tensor runtime (attention-forge/runtime) that Attention Forge\'s generated TypeScript blocks import, as the extension carries it. The CLI is in the full package.',
      license: pkg.license,
      exports: { './runtime': pkg.exports['./runtime'], './package.json': './package.json' },
      typesVersions: pkg.typesVersions,
      files: ['dist/runtime/index.js', 'dist/runtime/index.mjs', 'dist/types/'],
    };
    fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    fs.writeFileSync(path.join(stage, 'README.md'), `# attention-forge/runtime ${pkg.version}\n\nThe tensor runtime with PyTorch semantics that the TypeScript blocks generated by Attention Forge import:\n\n\`\`\`ts\nimport { nn, randn, type Tensor } from 'attention-forge/runtime';\n\`\`\`\n`);
    const out = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', stage], { cwd: stage, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error', npm_config_update_notifier: 'false' } }));
    fs.copyFileSync(path.join(stage, out[0].filename), 'dist/attention-forge-runtime.tgz');
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

generateSources();
copyAssets();
if (!watch) runtimeDeclarations();
if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  fs.watch('webview/form/form.css', () => copyAssets());
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  packRuntime();
}
