/**
 * The `attention-forge` command line: the catalog and its generators from a
 * terminal. Subcommands are small functions that return an exit code and
 * write through the given streams, so tests run them in-process and through
 * the built binary alike.
 *
 * Exit codes: 0 success, 1 findings (`check`) or a failure of the work itself
 * (an unwritable file, no WebGPU adapter), 2 usage errors and bad input
 * (invalid parameter values with the catalog's validation message, a run
 * larger than the backend can allocate, an existing output file without
 * `--force`), 3 an internal failure (a bug of ours). Every error is one line;
 * `--debug`, anywhere on the command line, adds the stack trace.
 */

import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { allBlocks, concreteShapes, defaults, formatShape, getBlock, parseParamValue } from '../blocks/catalog';
import type { BlockDef, Params } from '../blocks/types';
import { generatePyTorch, InvalidParamsError } from '../codegen/pytorch';
import { generateTypeScript, NoTypeScriptError } from '../codegen/typescript';
import { blockJson } from '../codegen/docs';
import { CHECK_USAGE, checkCommand, shapesCommand } from './check';
import { LSP_USAGE, lspCommand } from './lsp';
import { RUN_USAGE, runCommand } from './run';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const USAGE = `Usage: attention-forge <command> [options]

Commands:
  blocks [--json]                      List every block with its parameters and shape contract.
  new <block> [--set name=value ...]   Generate a block's source code.
        [--lang py|ts] [--out FILE] [--force]  (ts: a module class for the Attention Forge runtime)
${RUN_USAGE}${CHECK_USAGE}${LSP_USAGE}  help                                 Show this help.

Options for every command:
  --debug                              Print stack traces of internal errors.

Exit codes: 0 success, 1 findings or a failed run, 2 usage error or bad input, 3 internal error.

Examples:
  attention-forge new cnn-mha --set embed_dim=128 --set num_heads=4
  attention-forge new sagan-spatial --out sagan.py
  attention-forge run window-attention --set shift=true --output out.safetensors
`;

class UsageError extends Error {}

function listBlocks(io: Io, json: boolean): number {
  if (json) {
    io.out(JSON.stringify(allBlocks().map(blockJson), null, 2) + '\n');
    return 0;
  }
  for (const b of allBlocks()) {
    const c = b.contract(defaults(b));
    io.out(`${b.id} — ${b.title}\n  ${b.summary}\n`);
    io.out(`  input:  ${c.inputs.map((t) => `${t.name} ${formatShape(t.shape)}`).join(', ')}\n`);
    io.out(`  output: ${c.outputs.map((t) => `${t.name} ${formatShape(t.shape)}`).join(', ')}\n`);
    for (const d of b.params) {
      const range = [d.min !== undefined ? `≥ ${d.min}` : '', d.max !== undefined ? `≤ ${d.max}` : '', d.choices ? d.choices.join('|') : '']
        .filter(Boolean)
        .join(', ');
      io.out(`    ${d.name} (${d.type}${d.nullable ? ', optional' : ''}${range ? `, ${range}` : ''}) = ${JSON.stringify(d.default)} — ${d.doc}\n`);
    }
    io.out('\n');
  }
  return 0;
}

function parseSets(block: BlockDef, sets: string[]): Params {
  const out: Params = {};
  const errors: string[] = [];
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) {
      errors.push(`--set expects name=value, got ${JSON.stringify(s)}`);
      continue;
    }
    const name = s.slice(0, eq);
    const def = block.params.find((d) => d.name === name);
    if (!def) {
      errors.push(`${block.id} has no parameter '${name}' (parameters: ${block.params.map((d) => d.name).join(', ')})`);
      continue;
    }
    const r = parseParamValue(def, s.slice(eq + 1));
    if ('error' in r) errors.push(r.error);
    else out[name] = r.value;
  }
  if (errors.length) throw new UsageError(errors.join('\n'));
  return out;
}

function newBlock(io: Io, args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      set: { type: 'string', multiple: true, default: [] },
      lang: { type: 'string', default: 'py' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) throw new UsageError('new expects exactly one block id (see `attention-forge blocks`)');
  const block = getBlock(positionals[0]);
  if (!block) throw new UsageError(`unknown block '${positionals[0]}' (blocks: ${allBlocks().map((b) => b.id).join(', ')})`);
  if (values.lang !== 'py' && values.lang !== 'ts') throw new UsageError(`--lang ${values.lang} is not available; supported: py, ts`);
  const params = parseSets(block, values.set ?? []);
  let code: string;
  try {
    code = values.lang === 'ts' ? generateTypeScript(block, params) : generatePyTorch(block, params);
  } catch (e) {
    if (e instanceof InvalidParamsError || e instanceof NoTypeScriptError) throw new UsageError(e.message);
    throw e;
  }
  if (!values.out) {
    io.out(code);
    return 0;
  }
  try {
    // 'wx' fails atomically when the file exists: never overwrite without --force.
    fs.writeFileSync(values.out, code, { flag: values.force ? 'w' : 'wx' });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EEXIST') throw new UsageError(`${values.out} already exists; pass --force to overwrite it`);
    io.err(`cannot write ${values.out}: ${err.message}\n`);
    return 1;
  }
  const shapes = concreteShapes(block, { ...defaults(block), ...params });
  io.err(`wrote ${values.out} (${block.id}; output ${JSON.stringify(shapes.outputs.output)} at default dims)\n`);
  return 0;
}

/** The one line an internal error prints, and its stack trace with `--debug`. */
export function internalError(e: unknown, debug: boolean): string {
  const first = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  const line = `attention-forge: internal error: ${first.split('\n', 1)[0]}${debug ? '' : ' (run with --debug for the stack trace)'}\n`;
  return debug && e instanceof Error && e.stack ? `${line}${e.stack}\n` : line;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const debug = argv.includes('--debug');
  const [cmd, ...rest] = argv.filter((a) => a !== '--debug');
  try {
    switch (cmd) {
      case 'blocks': {
        const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean', default: false } } });
        return listBlocks(io, values.json ?? false);
      }
      case 'new':
        return newBlock(io, rest);
      case 'run':
        return await runCommand(rest, io);
      case 'check':
        return await checkCommand(debug ? [...rest, '--debug'] : rest, io);
      case 'lsp':
        return await lspCommand(rest, io);
      case 'shapes':
        return await shapesCommand(debug ? [...rest, '--debug'] : rest, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`attention-forge: ${(e as Error).message}\n`);
      if (!(e instanceof UsageError)) io.err(USAGE);
      return 2;
    }
    io.err(internalError(e, debug));
    return 3;
  }
}

if (require.main === module) {
  // A reader that goes away (`attention-forge shapes big.py | head`) ends the output, not the process with a stack.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  run(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(internalError(e, process.argv.includes('--debug')));
      process.exitCode = 3;
    },
  );
}
