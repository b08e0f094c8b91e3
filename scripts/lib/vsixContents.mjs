// Reads a .vsix (a zip) and finds the native executables in it (ELF, Mach-O, PE/COFF; a Node addon .node is one of
// these) with the platform each is for: a platform's .vsix must carry that platform's binaries and no other.
// Only node:fs and node:zlib: a zip's central directory is read by hand (stored and deflated entries, no zip64: a
// .vsix is far below 4 GB).
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

/** [{ name, size }] of every file in the zip, with a function that returns its bytes */
export function listZip(file) {
  const buf = readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--)
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) throw new Error(`${file}: not a zip (no end of central directory)`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${file}: bad central directory entry ${n}`);
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    entries.push({
      name,
      size,
      bytes() {
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const raw = buf.subarray(start, start + compressed);
        if (method === 0) return raw;
        if (method === 8) return inflateRawSync(raw);
        throw new Error(`${name}: zip method ${method}`);
      },
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

const MAGIC = [
  ['ELF', [0x7f, 0x45, 0x4c, 0x46]],
  ['Mach-O', [0xfe, 0xed, 0xfa, 0xce]],
  ['Mach-O', [0xfe, 0xed, 0xfa, 0xcf]],
  ['Mach-O', [0xce, 0xfa, 0xed, 0xfe]],
  ['Mach-O', [0xcf, 0xfa, 0xed, 0xfe]],
  ['Mach-O universal', [0xca, 0xfe, 0xba, 0xbe]],
  ['PE (Windows)', [0x4d, 0x5a]],
];

/** the kind of native executable `bytes` starts with, or null */
export function nativeKind(bytes) {
  for (const [kind, sig] of MAGIC) if (sig.every((b, i) => bytes[i] === b)) return kind;
  return null;
}

const ELF_MACHINES = { 0x3e: 'x64', 0xb7: 'arm64', 0x28: 'arm', 0x03: 'ia32' };
const MACHO_CPUS = { 0x01000007: 'x64', 0x0100000c: 'arm64' };
const PE_MACHINES = { 0x8664: 'x64', 0xaa64: 'arm64', 0x014c: 'ia32' };

/** { os: 'linux' | 'darwin' | 'win32', arch } of a native executable (little-endian headers), or null */
export function nativePlatform(bytes) {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = nativeKind(b);
  if (!kind || b.length < 64) return null;
  if (kind === 'ELF') return { os: 'linux', arch: ELF_MACHINES[b.readUInt16LE(18)] ?? 'other' };
  if (kind === 'PE (Windows)') {
    const pe = b.readUInt32LE(0x3c);
    if (pe + 6 > b.length || b.readUInt32LE(pe) !== 0x00004550) return { os: 'win32', arch: 'other' };
    return { os: 'win32', arch: PE_MACHINES[b.readUInt16LE(pe + 4)] ?? 'other' };
  }
  if (kind === 'Mach-O universal') return { os: 'darwin', arch: 'universal' };
  return { os: 'darwin', arch: MACHO_CPUS[b.readUInt32LE(4)] ?? 'other' };
}

/** [{ name, kind, os, arch }] of the native executables in a .vsix (by content, whatever their names) */
export function nativeBinariesIn(vsix) {
  const found = [];
  for (const e of listZip(vsix)) {
    if (e.name.endsWith('/') || e.size < 4) continue;
    const bytes = e.bytes();
    const kind = nativeKind(bytes);
    if (kind) found.push({ name: e.name, kind, ...nativePlatform(bytes) });
  }
  return found;
}
