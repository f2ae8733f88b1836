/**
 * `attention-forge lsp --stdio`: the language server (`src/lsp/server.ts`) on stdin/stdout, for
 * editors that start it as a process. The server loads on first use of the command, so the other
 * commands do not pay for it. The process ends when the client sends `exit` or closes stdin
 * (the library exits with 0 after `shutdown`, else 1); until then this never resolves.
 */

import { parseArgs } from 'node:util';

export const LSP_USAGE = `  lsp --stdio                          Run the language server over stdio (Neovim, Helix, Zed, Emacs…).
`;

export interface LspIo {
  err(text: string): void;
}

export async function lspCommand(args: string[], io: LspIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { stdio: { type: 'boolean', default: false } } });
  if (!values.stdio || positionals.length > 0) {
    io.err(`attention-forge: lsp needs --stdio (the only transport)\n${LSP_USAGE}`);
    return 2;
  }
  // With `--stdio` in the process's arguments the library reads stdin, writes stdout and sends
  // console output to the client as log messages, so nothing else reaches the protocol stream.
  if (!process.argv.includes('--stdio')) {
    io.err('attention-forge: lsp --stdio must be started as a process (the protocol owns stdout)\n');
    return 2;
  }
  const [{ createConnection, ProposedFeatures }, { startServer }] = await Promise.all([import('vscode-languageserver/node'), import('../lsp/server')]);
  startServer(createConnection(ProposedFeatures.all));
  return new Promise<number>(() => undefined);
}
