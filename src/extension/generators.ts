/**
 * The code generators the editor offers, by target language. PyTorch comes from
 * `src/codegen/pytorch.ts`. TypeScript generation (`src/codegen/typescript.ts`, for the
 * project's tensor runtime) is being written separately; until it lands its entry carries a
 * note and no `generate`, and the form shows the toggle disabled with that note. Wiring it in
 * is one import and one line here. No `vscode` import: tests and scripts read this table.
 */

import type { BlockDef, Params } from '../blocks/catalog';
import { renderPyTorch } from '../codegen/pytorch';
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
  typescript: {
    label: 'TypeScript',
    languageId: 'typescript',
    note: 'TypeScript generation is not available yet (src/codegen/typescript.ts has not landed).',
  },
};

export function languageAvailability(): LanguageAvailability[] {
  return (Object.keys(GENERATORS) as Language[]).map((language) => {
    const g = GENERATORS[language];
    return { language, available: !!g.generate, ...(g.generate ? {} : { note: g.note }) };
  });
}
