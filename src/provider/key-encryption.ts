import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, decodeKey, type Config } from '../config.js';

/** The key that encrypts the provider's own keys at rest, and where it came from (for messages). */
export interface KeysEncryptionKey {
  readonly key: Buffer;
  readonly source: string;
}

/** A secret as provider_keys.secret holds it: AES-256-GCM, every part base64url. */
export interface SealedSecret {
  v: 1;
  alg: 'A256GCM';
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Name of the generated key file in DATA_DIR, when KEYS_ENCRYPTION_KEY is not set. */
export const KEYS_ENCRYPTION_KEY_FILE = 'keys-encryption.key';

/**
 * Keys at rest that cannot be used as they are. A ConfigError so that main prints it as one
 * line and exits, but the message stands on its own (no "invalid configuration" prefix).
 */
export class KeyEncryptionError extends ConfigError {
  constructor(message: string) {
    super([message]);
    this.message = message;
  }
}

/**
 * KEYS_ENCRYPTION_KEY when set. Otherwise a key generated once into DATA_DIR, except in
 * production on PostgreSQL: there several instances must share one key, and a file on one
 * machine would leave the others unable to read the keys.
 */
export async function loadKeysEncryptionKey(config: Config): Promise<KeysEncryptionKey> {
  if (config.keysEncryptionKey) return { key: config.keysEncryptionKey, source: 'KEYS_ENCRYPTION_KEY' };
  if (config.env === 'production' && config.databaseUrl) {
    throw new KeyEncryptionError(
      'KEYS_ENCRYPTION_KEY is required in production with DATABASE_URL: it encrypts the signing, cookie and CSRF keys stored in the database, and every instance needs the same one. Generate it once with `openssl rand -base64 32` and set it on all instances.',
    );
  }
  const path = join(config.dataDir, KEYS_ENCRYPTION_KEY_FILE);
  const { key, created } = await readOrCreateKeyFile(path);
  return {
    key,
    source: created
      ? `a key generated just now in ${path}, as the file was missing (KEYS_ENCRYPTION_KEY is not set): restore the old file or set KEYS_ENCRYPTION_KEY`
      : `the key in ${path} (KEYS_ENCRYPTION_KEY is not set)`,
  };
}

/** Encrypts one secret; the kid is authenticated with it, so a sealed value moved to another row does not open. */
export function sealSecret(kek: Buffer, kid: string, secret: unknown): SealedSecret {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(secret), 'utf8'), cipher.final()]);
  return { v: 1, alg: 'A256GCM', iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), ciphertext: ciphertext.toString('base64url') };
}

/** Decrypts what sealSecret wrote; throws when the key, the kid or any byte differs. */
export function openSecret(kek: Buffer, kid: string, sealed: SealedSecret): unknown {
  if (sealed.v !== 1 || sealed.alg !== 'A256GCM') throw new Error(`unknown format (v ${String(sealed.v)}, alg ${String(sealed.alg)})`);
  const iv = Buffer.from(sealed.iv, 'base64url');
  const tag = Buffer.from(sealed.tag, 'base64url');
  // a shorter tag would be accepted by GCM and is easier to forge
  if (iv.length !== 12 || tag.length !== 16) throw new Error('malformed iv or tag');
  const decipher = createDecipheriv('aes-256-gcm', kek, iv, { authTagLength: 16 });
  decipher.setAAD(Buffer.from(kid, 'utf8'));
  decipher.setAuthTag(tag);
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64url')), decipher.final()]);
  } catch {
    throw new Error('authentication failed (another key, or altered data)');
  }
  return JSON.parse(plaintext.toString('utf8'));
}

export function isSealedSecret(value: unknown): value is SealedSecret {
  return typeof value === 'object' && value !== null && 'ciphertext' in value;
}

/**
 * Exclusive creation ('wx') makes concurrent first starts agree: the loser of the race
 * reads the winner's key instead of writing its own.
 */
async function readOrCreateKeyFile(path: string): Promise<{ key: Buffer; created: boolean }> {
  const existing = await readKeyFile(path);
  if (existing) return { key: existing, created: false };
  const key = randomBytes(32);
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return { key: (await readKeyFile(path))!, created: false };
    throw new KeyEncryptionError(`cannot create ${path}: ${code ?? (error as Error).message}. Make DATA_DIR writable, or set KEYS_ENCRYPTION_KEY.`);
  }
  try {
    writeSync(fd, key.toString('base64url') + '\n');
    // keys encrypted with it are about to be committed: it must outlive a crash
    fsyncSync(fd);
  } catch (error) {
    unlinkSync(path);
    throw error;
  } finally {
    closeSync(fd);
  }
  return { key, created: true };
}

/** The key in the file, or undefined when there is no file. */
async function readKeyFile(path: string): Promise<Buffer | undefined> {
  // an empty file is another start between creating it and writing to it: give it a moment
  for (let attempt = 0; ; attempt++) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new KeyEncryptionError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Set KEYS_ENCRYPTION_KEY, or make the file readable.`);
    }
    if (text.trim() === '' && attempt < 20) {
      await sleep(100);
      continue;
    }
    const key = decodeKey(text);
    if (!key) throw new KeyEncryptionError(`${path} does not hold a key-encryption key (32 bytes, base64url): restore it from a backup, or set KEYS_ENCRYPTION_KEY to the key the stored keys were encrypted with.`);
    return key;
  }
}
