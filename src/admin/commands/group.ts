import type { ParseArgsConfig } from 'node:util';
import type { EnablementAdministration } from '../../enablement/administration.js';
import type { KeyAdministration } from '../../provider/keys.js';
import type { ServiceAdministration } from '../../services/administration.js';
import type { InitialAccessTokens } from '../../services/initial-access-tokens.js';
import type { Administrators } from '../administrators.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** What the commands act on: the same services the console uses. */

export interface CommandDeps {
  administrators: Administrators;
  enablements: EnablementAdministration;
  services: ServiceAdministration;
  keys: KeyAdministration;
  initialAccessTokens: InitialAccessTokens;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** One group of `npm run admin -- <group> <command>`: its help, its options, what it does. */
export interface CommandGroup {
  name: string;
  /** one line per command, for the overview */
  summary: string;
  /** the group's own --help */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** whether the words name a command of the group (checked before the database is opened) */
  accepts(words: string[]): boolean;
  run(words: string[], values: OptionValues, deps: CommandDeps): Promise<CommandResult>;
}

export const EXIT = { done: 0, refused: 1, usage: 2 } as const;

export const done = (stdout: string): CommandResult => ({ code: EXIT.done, stdout, stderr: '' });

/** A refusal: the message on stderr, or the JSON answer on stdout with --json. */
export const refused = (message: string, json: boolean, answer: unknown): CommandResult =>
  json ? { code: EXIT.refused, stdout: JSON.stringify(answer, null, 2), stderr: '' } : { code: EXIT.refused, stdout: '', stderr: message };
