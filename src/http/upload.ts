import type { Middleware } from 'koa';
import multer from 'multer';
import { DomainError } from '../errors.js';

/**
 * One file from a multipart form, held in memory (at most `maxBytes`), for our own routes;
 * the form's other fields become the request body, as formBody() does for plain forms.
 */
export function singleFileUpload(field: string, maxBytes: number): Middleware {
  const parse = multer({ storage: multer.memoryStorage(), limits: { fileSize: maxBytes, files: 1, fields: 10, fieldSize: 4096 } }).single(field);
  return async (ctx, next) => {
    const req = ctx.req as typeof ctx.req & { body?: Record<string, unknown>; file?: Express.Multer.File };
    try {
      await new Promise<void>((resolve, reject) => parse(req as never, ctx.res as never, (error: unknown) => (error ? reject(error) : resolve())));
    } catch (error) {
      if (error instanceof multer.MulterError) {
        throw new DomainError(error.code === 'LIMIT_FILE_SIZE' ? 'error.payload_too_large' : 'error.bad_upload', { status: error.code === 'LIMIT_FILE_SIZE' ? 413 : 400 });
      }
      // a body that is not multipart at all
      throw new DomainError('error.bad_upload', { status: 400 });
    }
    ctx.request.body = { ...req.body };
    ctx.state.upload = req.file;
    await next();
  };
}
