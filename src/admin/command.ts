import { parseArgs } from 'node:util';
import { adminsGroup } from './commands/admins.js';
import { enablementsGroup } from './commands/enablements.js';
import { EXIT, type CommandDeps, type CommandGroup, type CommandResult, type OptionValues } from './commands/group.js';
import { servicesGroup } from './commands/services.js';
import { keysGroup } from './commands/keys.js';
import { initialAccessTokensGroup } from './commands/initial-access-tokens.js';

export type { CommandDeps, CommandResult } from './commands/group.js';

const GROUPS: readonly CommandGroup[] = [adminsGroup, servicesGroup, initialAccessTokensGroup, keysGroup, enablementsGroup];

export const USAGE = `uso: npm run admin -- <gruppo> <comando> [opzioni] [--json]

${GROUPS.map((g) => g.summary).join('\n')}

Ogni gruppo ha il suo aiuto: npm run admin -- <gruppo> --help
Esito: 0 fatto (o già così), 1 rifiutato, 2 comando non valido.
Gli amministratori entrano in /admin con la verifica in due passaggi.`;

type Parsed =
  | { help: string }
  | { usage: string }
  | { group: CommandGroup; words: string[]; values: OptionValues };

/** The command line read: a group's command with its options, or what to print instead (without opening the database). */
export function parse(args: string[]): Parsed {
  const group = GROUPS.find((g) => g.name === args[0]);
  if (!group) return args.includes('--help') ? { help: USAGE } : { usage: USAGE };
  let parsed;
  try {
    parsed = parseArgs({ args: args.slice(1), options: { ...group.options, json: { type: 'boolean' }, help: { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (error) {
    return { usage: `${(error as Error).message}\n\n${group.help}` };
  }
  if (parsed.values.help) return { help: group.help };
  if (!group.accepts(parsed.positionals)) return { usage: group.help };
  return { group, words: parsed.positionals, values: parsed.values as OptionValues };
}

/** One command; what it prints and its exit code. */
export async function adminCommand(args: string[], deps: CommandDeps): Promise<CommandResult> {
  const parsed = parse(args);
  if ('help' in parsed) return { code: EXIT.done, stdout: parsed.help, stderr: '' };
  if ('usage' in parsed) return { code: EXIT.usage, stdout: '', stderr: parsed.usage };
  return parsed.group.run(parsed.words, parsed.values, deps);
}
