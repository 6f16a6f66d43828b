// HPACK's static Huffman code (RFC 7541 Appendix B), used by hpack.ts to read the header strings
// that peers send Huffman-encoded (Go's HPACK encoder and nghttp2 both do when it is shorter): the
// benchmark client reads servers' responses with it, and the :authority shim reads clients' requests. The code is canonical: codes are assigned in order of (length, symbol), so the 257
// code lengths below determine every code; we build the codes from them at load time.

/** Code length in bits of each symbol 0..255; symbol 256 (EOS) is 30 bits long. */
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28,
  28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7,
  8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19,
  13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13,
  28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21,
  22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23,
  22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25,
  25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
];

const EOS = 256;

/** Malformed HPACK input (RFC 7541): a COMPRESSION_ERROR in HTTP/2 terms. */
export class HpackError extends Error {
  override name = 'HpackError';
}

/** codes[s] is symbol s's code, right-aligned in a number of CODE_LENGTHS[s] bits. */
const codes: number[] = buildCanonicalCodes();

function buildCanonicalCodes(): number[] {
  if (CODE_LENGTHS.length !== 257) throw new Error('huffman table must have 257 code lengths');
  const order = CODE_LENGTHS.map((len, sym) => ({ len, sym })).sort((a, b) => a.len - b.len || a.sym - b.sym);
  const out = new Array<number>(257).fill(0);
  let code = 0;
  let prevLen = order[0]?.len ?? 0;
  for (const { len, sym } of order) {
    code *= 2 ** (len - prevLen);
    prevLen = len;
    out[sym] = code;
    code += 1;
  }
  // A complete prefix code ends with the all-ones code of the longest length.
  if (code !== 2 ** prevLen) throw new Error('huffman code lengths do not form a complete code');
  return out;
}

/**
 * Decoding tree as flat arrays: node n's children are child[2n] (bit 0) and child[2n+1] (bit 1);
 * a child value < 0 is a leaf holding symbol -(value+1); 0 means "no child" (node 0 is the root and
 * is never anyone's child).
 */
const child: Int32Array = buildTree();

function buildTree(): Int32Array {
  const tree = new Int32Array(2 * 512);
  let next = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const len = CODE_LENGTHS[sym] ?? 0;
    const code = codes[sym] ?? 0;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = Math.floor(code / 2 ** i) % 2;
      const slot = 2 * node + bit;
      if (i === 0) {
        tree[slot] = -(sym + 1);
      } else {
        if (tree[slot] === 0) tree[slot] = next++;
        node = tree[slot] ?? 0;
      }
    }
  }
  return tree;
}

/**
 * Decodes a Huffman-encoded string to a latin1 string. Throws on EOS inside the string, on padding
 * longer than 7 bits, and on padding that is not all ones (RFC 7541 §5.2).
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string {
  let node = 0;
  let depth = 0; // bits consumed since the last symbol
  let allOnes = true;
  let out = '';
  for (let i = start; i < end; i++) {
    const byte = src[i] ?? 0;
    for (let b = 7; b >= 0; b--) {
      const bit = (byte >> b) & 1;
      const next = child[2 * node + bit] ?? 0;
      depth++;
      if (bit === 0) allOnes = false;
      if (next < 0) {
        const sym = -next - 1;
        if (sym === EOS) throw new HpackError('hpack: EOS symbol inside a Huffman string');
        out += String.fromCharCode(sym);
        node = 0;
        depth = 0;
        allOnes = true;
      } else {
        node = next;
      }
    }
  }
  if (depth > 7) throw new HpackError('hpack: Huffman padding longer than 7 bits');
  if (!allOnes) throw new HpackError('hpack: Huffman padding is not the EOS prefix');
  return out;
}

/** Encodes a latin1 string with the Huffman code (used by tests and to size strings). */
export function huffmanEncode(s: string): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i);
    if (sym > 255) throw new HpackError('hpack: Huffman encoding takes latin1 strings only');
    const len = CODE_LENGTHS[sym] ?? 0;
    const code = codes[sym] ?? 0;
    for (let b = len - 1; b >= 0; b--) {
      acc = (acc << 1) | (Math.floor(code / 2 ** b) % 2);
      bits++;
      if (bits === 8) {
        out.push(acc);
        acc = 0;
        bits = 0;
      }
    }
  }
  if (bits > 0) out.push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xff);
  return Uint8Array.from(out);
}
