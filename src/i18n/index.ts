import { en } from './en.js';
import { it, type MessageKey } from './it.js';

export type { MessageKey } from './it.js';
export type Locale = 'it' | 'en';
export type Vars = Record<string, string | number>;
export type Translate = (key: MessageKey, vars?: Vars) => string;

const catalogues: Record<Locale, Partial<Record<MessageKey, string>>> = { it, en };

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(it, key);
}

export function translator(locale: Locale = 'it'): Translate {
  return (key, vars = {}) => {
    const template = catalogues[locale][key] ?? it[key] ?? key;
    return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
      Object.hasOwn(vars, name) ? String(vars[name]) : whole);
  };
}

export const t = translator('it');
