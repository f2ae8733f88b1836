/**
 * The code generators the editor offers, by target language: PyTorch from
 * `src/codegen/pytorch.ts`, TypeScript for the project's tensor runtime from
 * `src/codegen/typescript.ts` (a module class mirroring the PyTorch one line by line, with the
 * same state_dict keys). A language whose entry has no `generate` is shown disabled with its
 * `note`. No `vscode` import: tests and scripts read this table.
 */

import type { BlockDef, Params } from '../blocks/catalog';
import { renderPyTorch } from '../codegen/pytorch';
import { renderTypeScript } from '../codegen/typescript';
import type { Language, LanguageAvailability } from '../protocol/form';

export interface Generator {
  label: string;
  /** The editor language id of the output. */
  languageId: string;
  /** Renders valid, resolved parameters; absent when the generator is not available. */
  generate?: (block: BlockDef, params: Params) => string;
  note?: string;
}

export const GENERATORS: Record<Language, Generator> = {
  pytorch: { label: 'PyTorch', languageId: 'python', generate: renderPyTorch },
  typescript: { label: 'TypeScript', languageId: 'typescript', generate: (b, p) => renderTypeScript(b, p) },
};

export function languageAvailability(): LanguageAvailability[] {
  return (Object.keys(GENERATORS) as Language[]).map((language) => {
    const g = GENERATORS[language];
    return { language, available: !!g.generate, ...(g.generate ? {} : { note: g.note }) };
  });
}
