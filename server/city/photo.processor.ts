import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { AppError } from '../errors.ts';

sharp.cache(false);

export type ProcessedPhoto = { hash: string; full: Buffer; thumb: Buffer; width: number; height: number };

const MAX_SIDE = 2560;
const THUMB_SIDE = 320;
/** Decompression-bomb guard: a 10 MB file may still claim a gigapixel canvas. */
const MAX_INPUT_PIXELS = 50_000_000;

/** The type from the first bytes (never the name or the part's Content-Type): JPEG, PNG or WebP. */
export function sniffImageType(b: Buffer): 'image/jpeg' | 'image/png' | 'image/webp' | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return null;
}

/**
 * Sniff, decode, re-encode as JPEG (orientation applied, every metadata block — EXIF, GPS, XMP, ICC
 * comments — dropped: sharp writes none unless asked), and make a thumbnail. The name is the SHA-256 of
 * the re-encoded bytes. 415 for a type other than JPEG/PNG/WebP, 400 for bytes that do not decode.
 */
export async function processPhoto(input: Buffer, field = 'photos'): Promise<ProcessedPhoto> {
  if (!sniffImageType(input)) throw new AppError('unsupported_media_type', 'Photos must be JPEG, PNG or WebP', [{ path: field, message: 'not a JPEG, PNG or WebP image' }]);
  try {
    const base = () => sharp(input, { failOn: 'truncated', limitInputPixels: MAX_INPUT_PIXELS }).rotate();
    const full = await base().resize({ width: MAX_SIDE, height: MAX_SIDE, fit: 'inside', withoutEnlargement: true }).flatten({ background: '#ffffff' }).jpeg({ quality: 82 }).toBuffer({ resolveWithObject: true });
    const thumb = await sharp(full.data).resize({ width: THUMB_SIDE, height: THUMB_SIDE, fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 70 }).toBuffer();
    return { hash: createHash('sha256').update(full.data).digest('hex'), full: full.data, thumb, width: full.info.width, height: full.info.height };
  } catch (err) {
    throw new AppError('bad_request', 'A photo could not be read (corrupt or truncated image)', [{ path: field, message: (err as Error).message.slice(0, 200) }]);
  }
}

export const photoNames = (hash: string) => ({ full: `${hash}.jpg`, thumb: `${hash}.thumb.jpg` });
