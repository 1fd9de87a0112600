// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) of the AS filter against published test
// vectors (NIST CSRC examples, RFC 4231) and against node:crypto over many lengths.
import { createHash, createHmac } from 'node:crypto';
import test from 'ava';
import { OP, probeCall } from './sampling-probe.ts';

const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const sha = (msgHex: string) => probeCall(OP.hash, { msg: msgHex })['hex'];
const hmac = (keyHex: string, msgHex: string) => probeCall(OP.hash, { key: keyHex, msg: msgHex })['hex'];

const SHA_VECTORS: Array<[string, string, string]> = [
  ['empty', '', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  [
    'abc (FIPS 180-4 example, one block)',
    hex('abc'),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  ],
  [
    '448-bit message (two blocks)',
    hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  ],
  [
    '896-bit message',
    hex(
      'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    ),
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  ],
];

for (const [name, msg, want] of SHA_VECTORS) {
  test(`sha256: ${name}`, (t) => {
    t.is(sha(msg), want, name);
  });
}

test('sha256 equals node:crypto for every length 0..300 (all padding boundaries)', (t) => {
  for (let n = 0; n <= 300; n++) {
    const msg = Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff));
    t.is(sha(msg.toString('hex')), createHash('sha256').update(msg).digest('hex'), `length ${n}`);
  }
});

// RFC 4231 §4.2–4.8 (test case 5 is a truncated output and is not used here).
const HMAC_VECTORS: Array<[string, string, string, string]> = [
  [
    'RFC 4231 case 1',
    '0b'.repeat(20),
    hex('Hi There'),
    'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
  ],
  [
    'RFC 4231 case 2 (short key)',
    hex('Jefe'),
    hex('what do ya want for nothing?'),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  ],
  [
    'RFC 4231 case 3',
    'aa'.repeat(20),
    'dd'.repeat(50),
    '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
  ],
  [
    'RFC 4231 case 4',
    '0102030405060708090a0b0c0d0e0f10111213141516171819',
    'cd'.repeat(50),
    '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b',
  ],
  [
    'RFC 4231 case 6 (131-byte key, hashed first)',
    'aa'.repeat(131),
    hex('Test Using Larger Than Block-Size Key - Hash Key First'),
    '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  ],
  [
    'RFC 4231 case 7 (large key and data)',
    'aa'.repeat(131),
    hex(
      'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
    ),
    '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
  ],
];

for (const [name, key, msg, want] of HMAC_VECTORS) {
  test(`hmac-sha256: ${name}`, (t) => {
    t.is(hmac(key, msg), want, name);
  });
}

test('hmac-sha256 equals node:crypto for key lengths 0..140 (block-size boundary)', (t) => {
  const msg = Buffer.from('v1.k1.1700000000.alice', 'utf8');
  for (let n = 0; n <= 140; n++) {
    const key = Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff));
    t.is(
      hmac(key.toString('hex'), msg.toString('hex')),
      createHmac('sha256', key).update(msg).digest('hex'),
      `key length ${n}`,
    );
  }
});
