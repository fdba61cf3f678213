import busboy from 'busboy';
import type { Request } from 'express';
import { AppError } from '../errors.ts';
import { MAX_PHOTO_BYTES, MAX_PHOTOS } from '../../shared/city.ts';

export type MultipartBody = { fields: Record<string, string>; files: { field: string; data: Buffer }[] };

/**
 * Reads a whole multipart/form-data body into memory before anything is stored (a body that stops
 * halfway is an error and stores nothing). Text fields go to `fields` (a repeated name is an error),
 * files in `fileField` to `files`. Over MAX_PHOTO_BYTES a file → 413, more than MAX_PHOTOS → 400.
 */
export function readMultipart(req: Request, allowedFields: readonly string[], fileField = 'photos'): Promise<MultipartBody> {
  if (!req.is('multipart/form-data')) return Promise.reject(new AppError('unsupported_media_type', 'Send the report as multipart/form-data'));
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        limits: { fileSize: MAX_PHOTO_BYTES, files: MAX_PHOTOS, fields: allowedFields.length + 5, fieldSize: 16 * 1024, parts: MAX_PHOTOS + allowedFields.length + 5, headerPairs: 20 },
      });
    } catch {
      return reject(new AppError('bad_request', 'Malformed multipart body (missing boundary?)'));
    }
    const fields: Record<string, string> = {};
    const files: { field: string; data: Buffer }[] = [];
    let failed: AppError | null = null;
    const fail = (e: AppError) => {
      if (failed) return;
      failed = e;
      req.unpipe(bb);
      req.resume(); // drain the rest so the 4xx can be sent on a kept-alive connection
      reject(e);
    };
    bb.on('field', (name, value, info) => {
      if (!allowedFields.includes(name)) return fail(new AppError('invalid_body', `Unknown field "${name}"`, [{ path: name, message: 'unknown field' }]));
      if (info.valueTruncated) return fail(new AppError('invalid_body', `Field "${name}" is too long`, [{ path: name, message: 'too long' }]));
      if (Object.hasOwn(fields, name)) return fail(new AppError('invalid_body', `Field "${name}" given twice`, [{ path: name, message: 'given twice' }]));
      fields[name] = value;
    });
    bb.on('file', (name, stream) => {
      if (name !== fileField) {
        stream.resume();
        return fail(new AppError('invalid_body', `Files go in "${fileField}"`, [{ path: name, message: 'unexpected file field' }]));
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', () => fail(new AppError('bad_request', 'Malformed or incomplete multipart body')));
      stream.on('limit', () => fail(new AppError('payload_too_large', `A photo is over ${MAX_PHOTO_BYTES / 1024 / 1024} MB`, [{ path: fileField, message: 'too large' }])));
      stream.on('end', () => {
        if (!failed && chunks.length) files.push({ field: name, data: Buffer.concat(chunks) });
      });
    });
    bb.on('filesLimit', () => fail(new AppError('invalid_body', `At most ${MAX_PHOTOS} photos`, [{ path: fileField, message: `at most ${MAX_PHOTOS}` }])));
    bb.on('fieldsLimit', () => fail(new AppError('invalid_body', 'Too many fields')));
    bb.on('partsLimit', () => fail(new AppError('invalid_body', 'Too many parts')));
    bb.on('error', () => fail(new AppError('bad_request', 'Malformed or incomplete multipart body')));
    bb.on('close', () => {
      if (!failed) resolve({ fields, files });
    });
    req.on('aborted', () => fail(new AppError('bad_request', 'The upload was interrupted')));
    req.pipe(bb);
  });
}
