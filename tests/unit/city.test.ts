import { describe, expect, it } from 'vitest';
import { addressKey } from '../../server/city/report.store.ts';
import { sniffImageType } from '../../server/city/photo.processor.ts';
import { answerBodySchema, reportCreateSchema } from '../../shared/city.ts';

describe('Our City pure rules', () => {
  it('when addresses differ only in case, punctuation, ё/е and street-type words, then their duplicate keys match; another house does not', () => {
    expect(addressKey('ул. Арбат, д. 5')).toBe(addressKey('Арбат 5'));
    expect(addressKey('Малый Власьевский пер., 7')).toBe(addressKey('малый власьевский 7'));
    expect(addressKey('Щёлковское шоссе, 3')).toBe(addressKey('щелковское 3'));
    expect(addressKey('Арбат 5 корп 2')).not.toBe(addressKey('Арбат 5'));
    expect(addressKey('Арбат 5')).not.toBe(addressKey('Арбат 15'));
  });

  it('when bytes are sniffed, then only JPEG, PNG and WebP signatures pass, whatever the name says', () => {
    expect(sniffImageType(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg');
    expect(sniffImageType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe('image/png');
    expect(sniffImageType(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('image/webp');
    for (const b of ['GIF89a', '<svg xmlns', '%PDF-1.7', 'RIFF\0\0\0\0AVI ', '']) expect(sniffImageType(Buffer.from(b))).toBeNull();
  });

  it('when a report or an answer is validated, then coordinates go in pairs and only a planned fix carries a date', () => {
    const base = { category: 'road', district: 'arbat', address: 'Арбат 5', description: 'Яма на дороге у дома' };
    expect(reportCreateSchema.safeParse(base).success).toBe(true);
    expect(reportCreateSchema.safeParse({ ...base, lat: '55.75', lng: '37.6' }).data).toMatchObject({ lat: 55.75, lng: 37.6 });
    expect(reportCreateSchema.safeParse({ ...base, lat: '55.75' }).success).toBe(false);
    expect(reportCreateSchema.safeParse({ ...base, lat: '95', lng: '37' }).success).toBe(false);
    expect(reportCreateSchema.safeParse({ ...base, district: 'nowhere' }).success).toBe(false);
    expect(answerBodySchema.safeParse({ text: 'Будет', outcome: 'planned' }).success).toBe(false);
    expect(answerBodySchema.safeParse({ text: 'Будет', outcome: 'planned', plannedFor: '2027-01-10' }).success).toBe(true);
    expect(answerBodySchema.safeParse({ text: 'Готово', outcome: 'fixed', plannedFor: '2027-01-10' }).success).toBe(false);
  });
});
