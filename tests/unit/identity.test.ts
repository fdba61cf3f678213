import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { normalisePhone, phoneSchema, profilePatchBody, verifyBody, rolesBody } from '../../shared/auth.ts';
import { DISTRICTS, DISTRICT_IDS, OKRUGS, okrugOf, isDistrictId } from '../../shared/districts.ts';

describe('phone normalisation', () => {
  it.each([
    ['+7 999 123-45-67', '+79991234567'],
    ['8 (999) 123-45-67', '+79991234567'],
    ['79991234567', '+79991234567'],
    ['89991234567', '+79991234567'],
    ['999 123 45 67', '+79991234567'],
    ['+7(495)123.45.67', '+74951234567'],
    ['  +7 999 123 45 67  ', '+79991234567'],
    ['+44 20 7946 0958', '+442079460958'],
    ['+1 (212) 555-0100', '+12125550100'],
    ['+375 29 123-45-67', '+375291234567'],
  ])('when "%s" is entered, then it is %s', (input, want) => {
    expect(normalisePhone(input)).toBe(want);
  });

  it.each(['', ' ', '12345', '+7 999 123', '+7 999 123 45 678', '8 999 123 45 678', '499 123 45 67', 'call me', '+0123456789', '+1234567890123456', '+7999123456<', '+7-999-123-45-67; DROP', '٩٩٩١٢٣٤٥٦٧', '+'.repeat(10)])(
    'when "%s" is entered, then it is refused',
    (input) => {
      expect(normalisePhone(input)).toBeNull();
      const r = phoneSchema.safeParse(input);
      expect(r.success).toBe(false);
      if (!r.success) expect(r.error.issues[0].message).toMatch(/phone number like \+7 999/);
    },
  );

  it('when any string is normalised, then the result is null or E.164 and normalising it again changes nothing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^\+?[78]?[ ()0-9-]{8,18}$/)), (s) => {
        const p = normalisePhone(s);
        if (p === null) return;
        expect(p).toMatch(/^\+[1-9][0-9]{7,14}$/);
        expect(normalisePhone(p)).toBe(p);
      }),
      { numRuns: 2000 },
    );
  });

  it('when a non-string phone or code arrives, then the schemas refuse it', () => {
    expect(phoneSchema.safeParse(79991234567).success).toBe(false);
    expect(verifyBody.safeParse({ phone: '+79991234567', code: 123456 }).success).toBe(false);
    expect(verifyBody.safeParse({ phone: '+79991234567', code: '１２３４５６' }).success).toBe(false);
    expect(verifyBody.safeParse({ phone: '8 999 123 45 67', code: '012345' }).data).toEqual({ phone: '+79991234567', code: '012345' });
  });
});

describe('districts data', () => {
  it('when the list is read, then there are 12 okrugs, unique latin slugs, 125 districts plus 21 settlements, each in a known okrug', () => {
    expect(OKRUGS.map((o) => o.id)).toEqual(['cao', 'sao', 'svao', 'vao', 'yuvao', 'yuao', 'yuzao', 'zao', 'szao', 'zelao', 'nao', 'tao']);
    expect(new Set(DISTRICT_IDS).size).toBe(DISTRICTS.length);
    expect(DISTRICTS.filter((d) => d.kind === 'district')).toHaveLength(125);
    expect(DISTRICTS.filter((d) => d.kind === 'settlement')).toHaveLength(21);
    for (const d of DISTRICTS) {
      expect(d.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(d.name.ru).toMatch(/^[А-ЯЁ][а-яёА-ЯЁ -]+$/);
      expect(d.name.en).toMatch(/^[A-Z][A-Za-z -]+$/);
      expect(OKRUGS.map((o) => o.id)).toContain(d.okrug);
    }
  });

  it('when a district is looked up, then its okrug follows; unknown ids have none', () => {
    expect(okrugOf('arbat')).toBe('cao');
    expect(okrugOf('mitino')).toBe('szao');
    expect(okrugOf('troitsk')).toBe('tao');
    expect(okrugOf('kryukovo')).toBe('zelao');
    expect(okrugOf('atlantis')).toBeNull();
    expect(okrugOf(null)).toBeNull();
    expect(isDistrictId('__proto__')).toBe(false);
    expect(isDistrictId('toString')).toBe(false);
  });
});

describe('profile and roles bodies', () => {
  it('when a profile patch is valid, then it parses (partial, name trimmed, null name allowed)', () => {
    expect(profilePatchBody.parse({ name: '  Анна  ', district: 'arbat', birthYear: 1990, gender: 'female' })).toEqual({ name: 'Анна', district: 'arbat', birthYear: 1990, gender: 'female' });
    expect(profilePatchBody.parse({ name: null })).toEqual({ name: null });
  });

  it.each([{}, { district: 'nowhere' }, { birthYear: 1800 }, { birthYear: '1990' }, { gender: 'x' }, { name: '   ' }, { district: 'arbat', admin: true }, { district: null }])(
    'when the patch is %j, then it is refused',
    (body) => {
      expect(profilePatchBody.safeParse(body).success).toBe(false);
    },
  );

  it('when roles are set, then only known roles are accepted', () => {
    expect(rolesBody.parse({ roles: ['moderator', 'official'] })).toEqual({ roles: ['moderator', 'official'] });
    expect(rolesBody.safeParse({ roles: ['root'] }).success).toBe(false);
    expect(rolesBody.safeParse({ roles: ['admin'], by: 1 }).success).toBe(false);
  });
});
