import { describe, it, expect } from 'vitest';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../../server/json-depth.ts';

/** `n` nested arrays (or objects) around `leaf`, built without recursion. */
const nest = (n: number, kind: 'array' | 'object', leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < n; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
};

describe('jsonDepthExceeds', () => {
  it('when a value nests exactly MAX_JSON_DEPTH levels, then it passes; one level more, then it is refused (arrays and objects alike)', () => {
    for (const kind of ['array', 'object'] as const) {
      expect(jsonDepthExceeds(nest(MAX_JSON_DEPTH, kind)), kind).toBe(false);
      expect(jsonDepthExceeds(nest(MAX_JSON_DEPTH + 1, kind)), kind).toBe(true);
    }
    expect(jsonDepthExceeds({ a: [{ b: [1] }] }, 4)).toBe(false);
    expect(jsonDepthExceeds({ a: [{ b: [[]] }] }, 4)).toBe(true);
  });

  it('when scalars, empty containers or a wide shallow value are checked, then none is too deep', () => {
    for (const v of [undefined, null, 0, 'x', true, [], {}]) expect(jsonDepthExceeds(v, 1)).toBe(false);
    expect(jsonDepthExceeds([[]], 1)).toBe(true);
    const wide = Array.from({ length: 50_000 }, (_, i) => ({ i, tags: ['a', 'b'] }));
    expect(jsonDepthExceeds(wide)).toBe(false);
  });

  it('when the deep part hides behind a `length` key, a `__proto__` key or a sibling, then it is still found', () => {
    expect(jsonDepthExceeds({ district: { length: nest(100, 'array') } })).toBe(true);
    expect(jsonDepthExceeds(JSON.parse(`{"__proto__":${'['.repeat(100)}${']'.repeat(100)}}`))).toBe(true);
    expect(jsonDepthExceeds([1, 'x', {}, nest(MAX_JSON_DEPTH, 'object')])).toBe(true);
  });

  it('when a value nests a million levels, then the answer comes without a stack overflow', () => {
    expect(jsonDepthExceeds(nest(1_000_000, 'array'))).toBe(true);
    expect(jsonDepthExceeds(JSON.parse(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`))).toBe(true);
  });

  it('when a Socket.IO payload carries binary attachments, then Buffers are leaves, not containers', () => {
    expect(jsonDepthExceeds({ pollId: Buffer.alloc(64) }, 1)).toBe(false);
    expect(jsonDepthExceeds([new Uint8Array(8), new ArrayBuffer(8)], 1)).toBe(false);
  });
});
