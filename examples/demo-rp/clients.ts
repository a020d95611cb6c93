import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/** The part of a clients.json service the demo RP needs. */
export interface DemoClient {
  id: string;
  name: string;
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  scopes: string[];
  backchannelLogoutUri?: string | undefined;
  demoPort?: number | undefined;
}

// Only the fields used here are checked; the provider validates the full schema.
const serviceSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  clientSecret: z.string().min(1),
  redirectUris: z.array(z.string()),
  postLogoutRedirectUris: z.array(z.string()).default([]),
  backchannelLogoutUri: z.string().optional(),
  scopes: z.array(z.string()).min(1),
  demoPort: z.number().int().min(0).max(65535).optional(),
});

const fileSchema = z.object({ services: z.array(z.unknown()) });

/** Reads one service from clients.json; every failure is a one-line message. */
export async function loadClient(file: string, serviceId: string): Promise<DemoClient> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }

  let services: unknown[];
  try {
    services = fileSchema.parse(JSON.parse(raw)).services;
  } catch {
    throw new Error(`${file} is not a valid clients file (expected { "services": [...] })`);
  }

  const entry = services.find((s) => idOf(s) === serviceId);
  if (!entry) {
    const known = services.map(idOf).filter((id) => id !== undefined);
    throw new Error(`unknown service "${serviceId}" in ${file}; known: ${known.join(', ') || '(none)'}`);
  }

  const parsed = serviceSchema.safeParse(entry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`service "${serviceId}" in ${file}: invalid ${issue?.path.join('.') || 'entry'} (${issue?.message ?? 'invalid'})`);
  }
  return parsed.data;
}

/** Service ids in a clients file, for the usage message; empty when the file is unreadable. */
export async function listServiceIds(file: string): Promise<string[]> {
  try {
    const { services } = fileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
    return services.map(idOf).filter((id) => id !== undefined);
  } catch {
    return [];
  }
}

function idOf(service: unknown): string | undefined {
  const id = typeof service === 'object' && service !== null ? (service as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : undefined;
}
