import type { Middleware } from 'koa';
import type { ServiceRepository } from './repository.js';

/** The largest logo the console accepts: a small image, served from the provider's own origin. */
export const MAX_LOGO_BYTES = 100 * 1024;

/**
 * The image type of an uploaded logo, from its first bytes (never from the name or the
 * browser's word): PNG, JPEG or WebP. SVG is refused: it may carry script, and it would be
 * served from the provider's origin.
 */
export function logoType(bytes: Uint8Array): 'image/png' | 'image/jpeg' | 'image/webp' | undefined {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x52, 0x49, 0x46, 0x46) && String.fromCharCode(...bytes.slice(8, 12)) === 'WEBP') return 'image/webp';
  return undefined;
}

/** GET /servizi/:id/logo: an uploaded logo (the URL carries a version, so it may be cached). */
export function serveLogo(repository: ServiceRepository): Middleware {
  return async (ctx) => {
    const id = String(ctx.params?.id ?? '');
    const logo = /^[a-z0-9-]{2,63}$/.test(id) ? await repository.logo(id) : undefined;
    if (!logo) {
      ctx.status = 404;
      return;
    }
    ctx.type = logo.contentType;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.set('Content-Security-Policy', "default-src 'none'");
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = Buffer.from(logo.bytes);
  };
}
