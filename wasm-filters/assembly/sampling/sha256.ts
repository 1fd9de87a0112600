// SHA-256 (FIPS 180-4 §6.2) and HMAC-SHA256 (RFC 2104), written for the debug-token check.
// Inputs are short (a token payload, a secret), so one-shot functions over whole buffers are
// enough: no streaming state. Round constants are FIPS 180-4 §4.2.2 (first 32 bits of the
// fractional parts of the cube roots of the first 64 primes); initial hash §5.3.3.

const K: u32[] = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
];

const BLOCK = 64;

/** SHA-256 of `data` (32 bytes). */
export function sha256(data: Uint8Array): Uint8Array {
  // §5.1.1 padding: 0x80, zeros, then the bit length as a 64-bit big-endian integer.
  const len = data.length;
  const padded = ((len + 9 + BLOCK - 1) / BLOCK) * BLOCK;
  const msg = new Uint8Array(padded);
  msg.set(data);
  msg[len] = 0x80;
  const bits = <u64>len * 8;
  for (let i = 0; i < 8; i++) msg[padded - 1 - i] = <u8>(bits >> <u64>(8 * i));

  let h0: u32 = 0x6a09e667,
    h1: u32 = 0xbb67ae85,
    h2: u32 = 0x3c6ef372,
    h3: u32 = 0xa54ff53a;
  let h4: u32 = 0x510e527f,
    h5: u32 = 0x9b05688c,
    h6: u32 = 0x1f83d9ab,
    h7: u32 = 0x5be0cd19;
  const w = new StaticArray<u32>(64);
  for (let off = 0; off < padded; off += BLOCK) {
    for (let t = 0; t < 16; t++) {
      const p = off + 4 * t;
      w[t] = ((<u32>msg[p]) << 24) | ((<u32>msg[p + 1]) << 16) | ((<u32>msg[p + 2]) << 8) | <u32>msg[p + 3];
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15];
      const y = w[t - 2];
      const s0 = rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3);
      const s1 = rotr<u32>(y, 17) ^ rotr<u32>(y, 19) ^ (y >>> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    let a = h0,
      b = h1,
      c = h2,
      d = h3,
      e = h4,
      f = h5,
      g = h6,
      h = h7;
    for (let t = 0; t < 64; t++) {
      const S1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = h + S1 + ch + K[t] + w[t];
      const S0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = S0 + maj;
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h0 += a;
    h1 += b;
    h2 += c;
    h3 += d;
    h4 += e;
    h5 += f;
    h6 += g;
    h7 += h;
  }
  const out = new Uint8Array(32);
  put(out, 0, h0);
  put(out, 4, h1);
  put(out, 8, h2);
  put(out, 12, h3);
  put(out, 16, h4);
  put(out, 20, h5);
  put(out, 24, h6);
  put(out, 28, h7);
  return out;
}

function put(out: Uint8Array, at: i32, v: u32): void {
  out[at] = <u8>(v >>> 24);
  out[at + 1] = <u8>(v >>> 16);
  out[at + 2] = <u8>(v >>> 8);
  out[at + 3] = <u8>v;
}

/** HMAC-SHA256 (RFC 2104 with B = 64, L = 32): H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ text)). */
export function hmacSha256(key: Uint8Array, text: Uint8Array): Uint8Array {
  // Keys longer than the block are hashed first (RFC 2104 §2).
  const k = key.length > BLOCK ? sha256(key) : key;
  const inner = new Uint8Array(BLOCK + text.length);
  const outer = new Uint8Array(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    const b: u8 = i < k.length ? k[i] : 0;
    inner[i] = b ^ 0x36;
    outer[i] = b ^ 0x5c;
  }
  inner.set(text, BLOCK);
  outer.set(sha256(inner), BLOCK);
  return sha256(outer);
}

export function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** base64url without padding (RFC 4648 §5). */
export function base64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const v = ((<u32>bytes[i]) << 16) | ((<u32>bytes[i + 1]) << 8) | <u32>bytes[i + 2];
    out +=
      B64URL.charAt(v >> 18) + B64URL.charAt((v >> 12) & 63) + B64URL.charAt((v >> 6) & 63) + B64URL.charAt(v & 63);
  }
  const rest = bytes.length - i;
  if (rest == 1) {
    const v = (<u32>bytes[i]) << 16;
    out += B64URL.charAt(v >> 18) + B64URL.charAt((v >> 12) & 63);
  } else if (rest == 2) {
    const v = ((<u32>bytes[i]) << 16) | ((<u32>bytes[i + 1]) << 8);
    out += B64URL.charAt(v >> 18) + B64URL.charAt((v >> 12) & 63) + B64URL.charAt((v >> 6) & 63);
  }
  return out;
}

/** Decodes base64url (padding optional); null on a character outside the alphabet. */
export function base64urlDecode(s: string): Uint8Array | null {
  let n = s.length;
  while (n > 0 && s.charCodeAt(n - 1) == 0x3d) n--;
  const out = new Uint8Array((n * 3) / 4);
  let acc: u32 = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let v: i32 = -1;
    if (c >= 0x41 && c <= 0x5a) v = c - 0x41;
    else if (c >= 0x61 && c <= 0x7a) v = c - 0x61 + 26;
    else if (c >= 0x30 && c <= 0x39) v = c - 0x30 + 52;
    else if (c == 0x2d || c == 0x2b) v = 62;
    else if (c == 0x5f || c == 0x2f) v = 63;
    if (v < 0) return null;
    acc = (acc << 6) | <u32>v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o < out.length) out[o++] = <u8>(acc >> bits);
    }
  }
  return out;
}

/** Equality of two ASCII strings in time independent of where they differ. */
export function constantTimeEquals(a: string, b: string): bool {
  if (a.length != b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff == 0;
}
