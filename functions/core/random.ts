/**
 * Randomness for the decision core, injected so decisions are reproducible in tests (pure layer rule).
 *
 * @remarks
 * Production passes {@link createIdGenerator} fed by `crypto.randomBytes` from an adapter; tests pass a
 * seeded byte source ({@link seededRandomBytes}). Contact ids and incarnation ids are uniform decimal
 * integers in [0, 2^63) (FWD-4, M2-1): 63 random bits, so guessing a live id is hopeless.
 */

/** Ids and tags a decision may need. */
export interface IdGenerator {
  /** FWD-4 / M2-1: a uniform decimal integer below 2^63, as a string without leading zeros. */
  randomContactId(): string;
  /** A To/From tag (RFC 3261 §19.3: at least 32 random bits), as lower-case hex. */
  randomTag(): string;
  /** An opaque unique id for records inside an AoR (pending relays, work items). */
  randomId(): string;
}

/** A source of random bytes: `(n) => crypto.randomBytes(n)` in production. */
export type RandomBytes = (length: number) => Uint8Array;

/** The two hex digits of each byte value: a table lookup per byte instead of toString + padStart (a tag per REGISTER). */
const HEX_BYTES: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX_BYTES[bytes[i]];
  return s;
}

/**
 * Builds an {@link IdGenerator} over a byte source.
 *
 * @example
 * ```ts
 * const ids = createIdGenerator((n) => randomBytes(n)); // node:crypto, in an adapter
 * ids.randomContactId(); // e.g. '4250694360795977181'
 * ```
 */
export function createIdGenerator(randomBytes: RandomBytes): IdGenerator {
  return {
    randomContactId(): string {
      const bytes = randomBytes(8);
      let value = 0n;
      for (const b of bytes) value = (value << 8n) | BigInt(b);
      // Dropping the top bit of 64 uniform bits gives a uniform value in [0, 2^63).
      return (value & 0x7fff_ffff_ffff_ffffn).toString(10);
    },
    randomTag(): string {
      return hex(randomBytes(6));
    },
    randomId(): string {
      return hex(randomBytes(8));
    },
  };
}

/**
 * A deterministic byte source for tests and simulations (xorshift32; not cryptographic).
 *
 * @param seed any non-zero 32-bit integer.
 */
export function seededRandomBytes(seed: number): RandomBytes {
  let state = seed >>> 0 || 0x9e3779b9;
  return (length: number): Uint8Array => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      out[i] = state & 0xff;
    }
    return out;
  };
}
