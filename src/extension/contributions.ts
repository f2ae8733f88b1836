/**
 * The generated parts of the extension manifest, derived from code: commands from the command
 * table, settings from the analyzer's rule registry, snippets from the catalog, the
 * walkthrough, activation events and capabilities. `scripts/gen.ts` writes them into
 * package.json and `npm run gen:check` fails when package.json disagrees; the unit tests read
 * the same functions. No `vscode` import. The extension bundle does not import this module (it
 * would load the whole analyzer at activation for the rule list).
 */

import { RULES } from '../analysis';
import { contributedCommands, FORM_VIEW_TYPE, PREVIEW_VIEW_TYPE } from './command-ids';
import { configurationContribution, SETTINGS_SECTION } from './analysis-view';

export const WALKTHROUGH_ID = 'attentionForge.gettingStarted';

export const SNIPPET_FILES = [
  { language: 'python', path: './snippets/python.json' },
  { language: 'typescript', path: './snippets/typescript.json' },
] as const;

export function walkthroughs(): unknown[] {
  return [
    {
      id: WALKTHROUGH_ID,
      title: 'Get started with Attention Forge',
      description: 'Scaffold an attention block, catch a shape mistake before running it, and preview a block.',
      steps: [
        {
          id: 'scaffold',
          title: 'Scaffold an attention block',
          description: 'Pick a block, set its parameters (invalid values are explained as you type) and insert the PyTorch module.\n[New Attention Block…](command:attentionForge.newBlock)',
          media: { markdown: 'media/walkthrough/scaffold.md' },
          completionEvents: ['onCommand:attentionForge.newBlock', 'onCommand:attentionForge.insertBlock'],
        },
        {
          id: 'diagnose',
          title: 'See a shape mistake and fix it',
          description: 'Open a Python file with an attention block: shape mistakes appear in the Problems panel as you type. Use the light bulb to apply a fix.\n[Check Workspace](command:attentionForge.checkWorkspace)',
          media: { markdown: 'media/walkthrough/diagnose.md' },
          completionEvents: ['onCommand:attentionForge.checkWorkspace'],
        },
        {
          id: 'shapes',
          title: 'Read shapes inline',
          description: 'Hover a tensor to see its inferred shape; inlay hints show the shape of every assignment in `forward`.\n[Toggle Shape Hints](command:attentionForge.toggleShapeHints)',
          media: { markdown: 'media/walkthrough/shapes.md' },
          completionEvents: ['onCommand:attentionForge.toggleShapeHints'],
        },
        {
          id: 'preview',
          title: 'Preview a block or your own module',
          description: 'Run a block, or your own nn.Module with your trained weights, in the editor: its shapes at every layer and its attention maps, head by head, without Python.\n[Preview Attention Block](command:attentionForge.previewBlock)\n[Preview Module](command:attentionForge.previewModule)',
          media: { markdown: 'media/walkthrough/preview.md' },
          completionEvents: ['onCommand:attentionForge.previewBlock', 'onCommand:attentionForge.previewModule'],
        },
      ],
    },
  ];
}

/** The manifest fields scripts/gen.ts owns, merged over package.json's other fields. */
export function generatedManifest(): { activationEvents: string[]; capabilities: unknown; contributes: Record<string, unknown> } {
  return {
    activationEvents: ['onLanguage:python', 'onLanguage:typescript', `onWebviewPanel:${FORM_VIEW_TYPE}`, `onWebviewPanel:${PREVIEW_VIEW_TYPE}`],
    capabilities: {
      // Nothing the extension does executes user code (analysis is static, generation is text,
      // Preview module interprets Python) except Compare with PyTorch, which runs Python, and
      // Preview module on a TypeScript file, which runs that file's code; both happen on explicit
      // request and are refused in Restricted Mode; the interpreter setting is restricted.
      untrustedWorkspaces: {
        supported: 'limited',
        description: 'In Restricted Mode everything works except Compare with PyTorch, which runs Python, and Preview module on TypeScript files, which runs their code; the interpreter setting is taken from trusted settings only.',
        restrictedConfigurations: [`${SETTINGS_SECTION}.python.interpreter`],
      },
      virtualWorkspaces: true,
    },
    contributes: {
      commands: contributedCommands(),
      configuration: configurationContribution(RULES),
      snippets: SNIPPET_FILES.map((s) => ({ ...s })),
      walkthroughs: walkthroughs(),
    },
  };
}
