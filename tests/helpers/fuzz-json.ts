import fc from 'fast-check';

/**
 * Generators of invalid JSON and request parts for the fuzz suite (tests/faults/fuzz.test.ts): junk
 * leaves and nesting, mutations of a valid body, malformed JSON, path-param and query candidates.
 */

/** A raw JSON token, written as is (numbers JSON.stringify cannot write: -0, 1e308, 10k digits, …). */
export class Raw {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}
/** An object as a list of entries: keeps `__proto__` as a plain key and allows duplicate keys. */
export class Obj {
  readonly entries: [string, unknown][];
  constructor(entries: [string, unknown][]) {
    this.entries = entries;
  }
}
export function ser(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Obj) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${ser(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(ser).join(',')}]`;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return ser(new Obj(Object.entries(v)));
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : 'null';
  return JSON.stringify(v);
}

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'];
export const WEIRD_STRINGS = [
  '', ' ', '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud83dy', '\u202eevil', '\u200f\u05e9\u05dc\u05d5\u05dd', 'مرحبا', '🙂👍🏽',
  '\u0301', '\ufeff', '\r\n', '\t', '%00', '%zz', '../../etc/passwd', '<script>alert(1)</script>', "' OR 1=1 --", '${7*7}', '{{7*7}}',
  'null', 'undefined', 'NaN', '-0', '1e308', 'true', '[]', '{}', ...PROTO_KEYS, 'd1.1', 'q1', 'o1', 'arbat', '+79991234567', '123456',
];
export const NUMBER_TOKENS = ['-0', '0', '-1', '1e308', '-1e308', '1E+400', '1e-400', '0.1', '4.5', '9007199254740993', '1e21', '123456789012345678901234567890', '-2147483649'];

export const nastyString = fc.oneof(
  { arbitrary: fc.constantFrom(...WEIRD_STRINGS), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }), weight: 1 },
  { arbitrary: fc.integer({ min: 200, max: 12_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
  { arbitrary: fc.integer({ min: 50, max: 2_000 }).map((n) => '\ud800'.repeat(n)), weight: 1 },
);
export const nastyNumber = fc.oneof(
  fc.constantFrom(...NUMBER_TOKENS).map((t) => new Raw(t)),
  fc.integer({ min: 1_000, max: 10_000 }).map((n) => new Raw('9'.repeat(n))),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);
/** Nesting deeper than any schema: arrays or objects, 100–20,000 levels. */
export const deepNest = fc.tuple(fc.integer({ min: 100, max: 20_000 }), fc.boolean()).map(([d, arr]) => new Raw(arr ? `${'['.repeat(d)}${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`));
export const nastyLeaf = fc.oneof(nastyString, nastyNumber, fc.constantFrom(null, true, false));
export const nastyOf = (deep: boolean) =>
  fc.letrec((tie) => ({
    nasty: fc.oneof(
      { arbitrary: nastyLeaf, weight: 6 },
      { arbitrary: fc.array(tie('nasty'), { maxLength: 4 }), weight: 1 },
      { arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), nastyString), tie('nasty')), { maxLength: 4 }).map((e) => new Obj(e)), weight: 1 },
      ...(deep ? [{ arbitrary: deepNest as fc.Arbitrary<unknown>, weight: 1 }] : []),
    ),
  })).nasty;
/** Junk JSON: leaves above, arrays, objects with prototype keys, very deep nesting. */
export const nasty = nastyOf(true);
/** The same without the 20,000-level nesting (socket payloads: the client's encoder recurses). */
export const nastyShallow = nastyOf(false);

export type Path = (string | number)[];
export function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (at.length) out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}
/** A copy of `v` with the node at `path` replaced (`fn` gets the old node). */
export function edit(v: unknown, path: Path, fn: (old: unknown) => unknown): unknown {
  if (!path.length) return fn(v);
  const [head, ...rest] = path;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? edit(x, rest, fn) : x));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === head ? edit(x, rest, fn) : x]));
  return v;
}
export const parentOf = (p: Path) => p.slice(0, -1);

/** Mutations of a valid body: a node replaced by junk, dropped, an unknown or prototype key added, wrapped, … */
export function mutations(valid: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(valid);
  const objectPaths: Path[] = [[], ...paths.filter((p) => { const n = p.reduce<any>((o, k) => o?.[k], valid); return n && typeof n === 'object' && !Array.isArray(n); })];
  const anyPath = paths.length ? fc.constantFrom(...paths) : fc.constant<Path>([]);
  return fc.oneof(
    { arbitrary: fc.tuple(anyPath, nasty).map(([p, junk]) => edit(valid, p, () => junk)), weight: 6 },
    {
      // drop a key
      arbitrary: anyPath.map((p) => edit(valid, parentOf(p), (o) => (Array.isArray(o) ? o.filter((_, i) => i !== p[p.length - 1]) : o && typeof o === 'object' ? Object.fromEntries(Object.entries(o).filter(([k]) => k !== p[p.length - 1])) : o))),
      weight: 2,
    },
    {
      // an extra key (often a prototype key) on some object, possibly carrying valid-looking fields
      arbitrary: fc.tuple(fc.constantFrom(...objectPaths), fc.oneof(fc.constantFrom(...PROTO_KEYS), nastyString), fc.oneof(nasty, fc.constant(valid))).map(([p, k, x]) =>
        edit(valid, p, (o) => new Obj([...Object.entries(o as object), [k, x]])),
      ),
      weight: 3,
    },
    {
      // a duplicate key: the last one wins in JSON.parse
      arbitrary: fc.tuple(anyPath.filter((p) => typeof p[p.length - 1] === 'string'), nasty).map(([p, junk]) =>
        edit(valid, parentOf(p), (o) => new Obj([...Object.entries(o as object), [String(p[p.length - 1]), junk]])),
      ),
      weight: 2,
    },
    { arbitrary: fc.constantFrom<unknown>([valid], new Obj([['__proto__', valid]]), new Obj([['data', valid]]), [], {}, [[valid]]), weight: 1 },
    { arbitrary: fc.integer({ min: 50, max: 5_000 }).map((d) => new Raw(`${'['.repeat(d)}${ser(valid)}${']'.repeat(d)}`)), weight: 1 },
  );
}

export const MALFORMED = Symbol('malformed');
/** What body-parser (strict) makes of a body: MALFORMED when not JSON at all or not an object/array at the top. */
export function parsedBody(buf: Buffer): unknown {
  const text = buf.toString('utf8');
  const first = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d])/.exec(text)?.[1];
  if (first !== '{' && first !== '[') return MALFORMED;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return MALFORMED;
  }
}
export const isMalformed = (buf: Buffer) => parsedBody(buf) === MALFORMED;
export const malformedJson = fc
  .oneof(
    fc.constantFrom(
      '{', '}', '[', ']', '{"a":}', '{"a":1,}', '[1,]', "{'a':1}", '{a:1}', 'NaN', '{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}', '{"a":undefined}',
      '{"a":01}', '{"a":.5}', '{"a":1.}', '{"a":+1}', '{"a":0x10}', '{"a":"\\x41"}', '{"a":"\\u12"}', '{"a":"\u0000"}', '{"a":1}//c', '/*c*/{}',
      '{"a":1}}', '{"a":1} x', 'true', 'false', 'null', '1', '-0', '1e308', '"str"', '"{}"', '   ', '\u0000', '\\', '{"__proto__":}', '[' .repeat(5000),
    ),
    // valid JSON text of junk, cut or with a stray character somewhere
    fc.tuple(nasty.map(ser), fc.nat(), fc.constantFrom('', '}', ']', ',', ':', '"', '\\', 'x', '\u0000', '\n{')).map(([t, at, ch]) => {
      const i = t.length ? at % t.length : 0;
      return ch === '' ? t.slice(0, i) : t.slice(0, i) + ch + t.slice(i);
    }),
    // not text at all
    fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.from(b)),
  )
  .map((x) => (Buffer.isBuffer(x) ? x : Buffer.from(x)))
  .filter((b) => b.length > 0 && isMalformed(b));

/** Percent-encode every byte of the UTF-8 form (lone surrogates become U+FFFD, as a browser would send them). */
export const pctAll = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
export const pctSome = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return pctAll(s);
  }
};
/** Path-param candidates as they appear in the request target (already encoded, or deliberately broken). */
export const idCandidate = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      '-1', '0', '00', '01', '1e3', '1E3', '0x10', '0b1', '0o7', '1.5', '1.0', '%201', '1%20', '+1', '%2B1', 'Infinity', '-Infinity', 'NaN', '-0', 'null', 'undefined',
      'true', '%5B%5D', '%7B%7D', '__proto__', 'constructor', 'prototype', 'toString', '%00', '1%00', '%', '%zz', '%E0%A4%A', '%C0%AF', '%FF%FE', '%ED%A0%80',
      '%2F', '1%2F2', '%2e%2e', '..', '.', '1;2', '1,2', '1%0A', '%0D%0A1', '9007199254740993', '1000000000000000', '9'.repeat(16), '9'.repeat(400),
      '9'.repeat(10_000), `1${'0'.repeat(9_999)}`, pctSome('１'), pctSome('١'), '%EF%BC%91',
    ),
    weight: 5,
  },
  { arbitrary: nastyString.filter((s) => s.length < 3_000).map(pctSome), weight: 3 },
  { arbitrary: fc.integer({ min: -1_000_000, max: 0 }).map(String), weight: 1 },
  { arbitrary: fc.double({ noNaN: true }).map(String).map(pctSome), weight: 1 },
  { arbitrary: fc.stringMatching(/^[1-9][0-9]{15,60}$/), weight: 1 },
  // well-formed ids no fixture has: 404 (never a fixture id: those are small)
  { arbitrary: fc.integer({ min: 1_000_000, max: 2_000_000_000 }).map(String), weight: 1 },
);
export const decodeParam = (raw: string): string | null => {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
};

/** Query strings: known keys with junk values, repeated keys, prototype keys, brackets, broken encodings. */
export function queryCandidate(keys: string[]): fc.Arbitrary<string> {
  const key = fc.oneof(
    { arbitrary: fc.constantFrom(...(keys.length ? keys : ['x'])), weight: 4 },
    { arbitrary: fc.constantFrom(...PROTO_KEYS, '', 'x', 'status[]', 'limit[0]', 'a[b]', 'q.x'), weight: 2 },
    { arbitrary: nastyString.filter((s) => s.length < 200).map(pctSome), weight: 1 },
  );
  const value = fc.oneof(
    { arbitrary: fc.constantFrom('', '-1', '0', '1e3', '0x10', '1.5', 'NaN', 'Infinity', '-0', '1e308', 'null', 'true', '[]', '%zz', '%', '%00', '%E0%A4%A', 'active', 'draft', '+79991234567'), weight: 4 },
    { arbitrary: nastyString.filter((s) => s.length < 6_000).map(pctSome), weight: 3 },
    { arbitrary: fc.integer({ min: 101, max: 5_000 }).map((n) => '9'.repeat(n)), weight: 1 },
    { arbitrary: fc.integer({ min: -1_000, max: 100_000 }).map(String), weight: 2 },
  );
  return fc
    .array(fc.tuple(key, value, fc.boolean()), { minLength: 1, maxLength: 5 })
    .map((pairs) => pairs.map(([k, v, withEq]) => (withEq || v ? `${k}=${v}` : k)).join('&'));
}

// ---------------------------------------------------------------------------------------------------------
// one fuzz input and its checks
