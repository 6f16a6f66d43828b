// Copying small byte arrays cheaply. A new ArrayBuffer per copy costs about half a microsecond in
// V8; arrays of up to 64 bytes are allocated on V8's heap instead, and mid-sized ones are carved
// out of a shared 64 KiB slab (a slab lives while any view into it does).

const ON_HEAP_MAX_BYTES = 64;
const SLAB_BYTES = 64 * 1024;
const SLAB_MAX_COPY_BYTES = 4096;
let slab = new Uint8Array(SLAB_BYTES);
let slabOffset = 0;

/** A fresh copy of the first n bytes of src (all of it by default). */
export function copyBytes(src: Uint8Array, n = src.length): Uint8Array {
  if (n <= ON_HEAP_MAX_BYTES) {
    const c = new Uint8Array(n);
    for (let i = 0; i < n; i++) c[i] = src[i]!;
    return c;
  }
  const from = src.byteLength === n ? src : new Uint8Array(src.buffer, src.byteOffset, n);
  if (n > SLAB_MAX_COPY_BYTES) {
    const c = new Uint8Array(n);
    c.set(from);
    return c;
  }
  if (slabOffset + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabOffset = 0;
  }
  const c = slab.subarray(slabOffset, slabOffset + n);
  c.set(from);
  slabOffset += n;
  return c;
}
