/**
 * The threaded build's XNNPACK pool, used per call: every XNNPACK call runs on the calling thread alone unless it is
 * large enough to pay for waking the pool's other threads (`kernels/threadedCalls.ts` decides, call by call).
 *
 * Why: the pool (pthreadpool) wakes its threads for every parallel call, and between two calls they fall asleep; a
 * MobileNetV2 training step makes ~1,000 XNNPACK calls, most of a few microseconds, and paid a wake-up for each
 * (measured: the threaded build 1.1-1.3x slower there with twice the CPU), while a 3x3 convolution of the small CNN
 * (7 ms) runs ~1.8x faster on two threads. pthreadpool has no size threshold and tfjs-backend-wasm exposes none.
 *
 * How: pthreadpool runs a parallel call on the calling thread alone when its `threads_count` is 1, and reads that
 * count (a `struct fxdiv_divisor_size_t`: value, m, s1, s2) only on the calling thread before it hands work out; the
 * pool's threads read it only while they work on a call. Between two calls (JavaScript waits for every kernel to
 * return) this module writes either the real count or 1 there. Where the pool is: the build's exported
 * `get_threads_count` reads a global pointer and passes it to `pthreadpool_get_threads_count`, which loads the count
 * at a fixed offset: both read from the .wasm bytes (`locatePoolCount`), then checked against the running pool (the
 * count and its divisor as pthreadpool_create wrote them) before anything is written. Any mismatch: no switch, the
 * pool is used as tfjs uses it.
 */

/** where the pool's thread count lies: the address of the pool pointer and the count's offset in the pool */
export interface PoolCountPlace {
  pointerAddress: number;
  countOffset: number;
}

interface Reader {
  b: Uint8Array;
  p: number;
}
function uleb(r: Reader): number {
  let v = 0,
    shift = 0,
    x: number;
  do {
    x = r.b[r.p++];
    v += (x & 0x7f) * 2 ** shift;
    shift += 7;
  } while (x & 0x80 && shift < 35);
  return v;
}
function sleb32(r: Reader): number {
  let v = 0,
    shift = 0,
    x: number;
  do {
    x = r.b[r.p++];
    v |= (x & 0x7f) << shift;
    shift += 7;
  } while (x & 0x80 && shift < 35);
  return shift < 32 && x & 0x40 ? v | (-1 << shift) : v;
}
const utf8 = new TextDecoder();
function name(r: Reader): string {
  const n = uleb(r);
  const s = utf8.decode(r.b.subarray(r.p, r.p + n));
  r.p += n;
  return s;
}
function skipLimits(r: Reader): void {
  const flags = r.b[r.p++];
  uleb(r);
  if (flags & 1) uleb(r);
}

/** the function bodies (after their locals) and the exported functions of a module, by a minimal section walk */
function functions(bytes: Uint8Array): { exported: Map<string, number>; body: (index: number) => Reader | null } {
  const r: Reader = { b: bytes, p: 8 };
  let imported = 0;
  const exported = new Map<string, number>();
  const bodies: [number, number][] = [];
  while (r.p < bytes.length) {
    const id = bytes[r.p++];
    const size = uleb(r);
    const end = r.p + size;
    if (id === 2) {
      for (let n = uleb(r); n > 0; n--) {
        name(r);
        name(r);
        const kind = bytes[r.p++];
        if (kind === 0) {
          uleb(r);
          imported++;
        } else if (kind === 1) {
          r.p++; // reftype
          skipLimits(r);
        } else if (kind === 2) skipLimits(r);
        else if (kind === 3) r.p += 2;
        else throw new Error('unknown import kind');
      }
    } else if (id === 7) {
      for (let n = uleb(r); n > 0; n--) {
        const nm = name(r);
        const kind = bytes[r.p++];
        const index = uleb(r);
        if (kind === 0) exported.set(nm, index);
      }
    } else if (id === 10) {
      for (let n = uleb(r); n > 0; n--) {
        const len = uleb(r);
        bodies.push([r.p, len]);
        r.p += len;
      }
    }
    r.p = end;
  }
  const body = (index: number): Reader | null => {
    const at = bodies[index - imported];
    if (!at) return null;
    const f: Reader = { b: bytes.subarray(0, at[0] + at[1]), p: at[0] };
    for (let groups = uleb(f); groups > 0; groups--) {
      uleb(f); // count
      f.p++; // type
    }
    return f;
  };
  return { exported, body };
}

/**
 * Reads where the pool's thread count lies from the build's bytes: `get_threads_count` must begin with
 * `i32.const A; i32.load` (the pool pointer) and call a function that returns `i32.load offset=K` of its argument
 * (`pthreadpool_get_threads_count`: `if (!pool) return 1; return pool->threads_count.value`). Null if the code is
 * not of that shape.
 */
export function locatePoolCount(bytes: Uint8Array): PoolCountPlace | null {
  try {
    const { exported, body } = functions(bytes);
    const index = exported.get('get_threads_count');
    const f = index === undefined ? null : body(index);
    if (!f || f.b[f.p++] !== 0x41) return null; // i32.const
    const pointerAddress = sleb32(f);
    if (f.b[f.p++] !== 0x28) return null; // i32.load
    uleb(f);
    if (uleb(f) !== 0) return null; // offset 0
    // the call that follows the null check
    let callee = -1;
    for (; f.p < f.b.length; f.p++)
      if (f.b[f.p] === 0x20 && f.b[f.p + 1] === 0x00 && f.b[f.p + 2] === 0x10) {
        f.p += 3;
        callee = uleb(f);
        break;
      }
    const g = callee < 0 ? null : body(callee);
    if (!g) return null;
    // the load of the count: local.get 0; i32.load align offset=K; end
    for (; g.p + 3 < g.b.length; g.p++)
      if (g.b[g.p] === 0x20 && g.b[g.p + 1] === 0x00 && g.b[g.p + 2] === 0x28) {
        g.p += 3;
        uleb(g);
        const countOffset = uleb(g);
        if (g.b[g.p] !== 0x0b) return null;
        return pointerAddress > 0 ? { pointerAddress, countOffset } : null;
      }
    return null;
  } catch {
    return null;
  }
}

/** pthreadpool_create's divisor of a thread count n (fxdiv_init_size_t, 32-bit size_t): [value, m, s1, s2] */
export function countDivisor(n: number): [number, number, number, number] {
  if (n === 1) return [1, 1, 0, 0];
  const s2 = 31 - Math.clz32(n - 1);
  const m = Number(((BigInt(2 ** (s2 + 1) - n) << 32n) / BigInt(n) + 1n) & 0xffffffffn);
  return [n, m, 1, s2];
}

export interface PoolSwitch {
  /** the pool's threads (what tfjs started) */
  readonly threads: number;
  /** the next XNNPACK calls use the whole pool (true) or the calling thread alone (false) */
  setParallel(on: boolean): void;
}

/**
 * The switch for a running threaded build, or null where the pool is not where `place` says or not as
 * pthreadpool_create left it for `threads` threads. Leaves the pool on the calling thread alone.
 */
export function poolSwitch(memory: WebAssembly.Memory, place: PoolCountPlace, threads: number): PoolSwitch | null {
  if (threads < 2) return null;
  const u32 = () => new Uint32Array(memory.buffer);
  const pool = u32()[place.pointerAddress >>> 2];
  const at = pool + place.countOffset;
  if (pool === 0 || at % 4 !== 0 || at + 12 > memory.buffer.byteLength) return null;
  const running = countDivisor(threads);
  const read = () => {
    const v = u32();
    const u8 = new Uint8Array(memory.buffer, at + 8, 2);
    return [v[at >>> 2], v[(at >>> 2) + 1], u8[0], u8[1]];
  };
  if (read().join() !== running.join()) return null;
  const write = (d: [number, number, number, number]) => {
    const v = u32();
    v[at >>> 2] = d[0];
    v[(at >>> 2) + 1] = d[1];
    const u8 = new Uint8Array(memory.buffer, at + 8, 2);
    u8[0] = d[2];
    u8[1] = d[3];
  };
  const alone = countDivisor(1);
  let parallel = true;
  const sw: PoolSwitch = {
    threads,
    setParallel(on) {
      if (on === parallel) return;
      write(on ? running : alone);
      parallel = on;
    },
  };
  sw.setParallel(false);
  return sw;
}
