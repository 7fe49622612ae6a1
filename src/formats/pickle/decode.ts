// Byte-level decoders the pickle opcodes need: latin-1 both ways, UTF-8 to latin-1 in place
// (numpy data carried as a latin-1 str), two's-complement LONG integers, and the escape
// syntaxes of protocol 0's STRING and UNICODE lines.

import { TlError } from '../../util/errors.js';
import { PICKLE_LIMITS } from './limits.js';

export const utf8Decoder = new TextDecoder('utf-8');

export function latin1Decode(b: Uint8Array): string {
  if (b.length > PICKLE_LIMITS.maxJsString) throw new TlError(`byte string of ${b.length} bytes is too long to decode as text`);
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

export function latin1Encode(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) return null;
    out[i] = c;
  }
  return out;
}

/**
 * Decode UTF-8 whose code points are all below 256 into latin-1 bytes, writing into `dst`
 * (which may overlap `src` when dst.byteOffset <= src.byteOffset: the write position never
 * passes the read position). Returns the number of bytes written, or -1 for a code point
 * above 255 or malformed UTF-8.
 */
export function utf8ToLatin1(src: Uint8Array, dst: Uint8Array): number {
  let w = 0;
  const n = src.length;
  for (let r = 0; r < n; ) {
    const b = src[r]!;
    if (b < 0x80) {
      dst[w++] = b;
      r++;
    } else if ((b === 0xc2 || b === 0xc3) && r + 1 < n && (src[r + 1]! & 0xc0) === 0x80) {
      dst[w++] = ((b & 0x03) << 6) | (src[r + 1]! & 0x3f);
      r += 2;
    } else {
      return -1;
    }
  }
  return w;
}

function isSafeInt(b: bigint): boolean {
  return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER);
}

export function intValue(b: bigint): number | bigint {
  return isSafeInt(b) ? Number(b) : b;
}

/** Two's-complement little-endian integer of n bytes. */
export function decodeLong(bytes: Uint8Array): number | bigint {
  const n = bytes.length;
  if (n === 0) return 0;
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  if (bytes[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
  return intValue(v);
}

/** Python 2 `string-escape` decoding of the body of a protocol-0 STRING. */
export function escapeDecode(body: Uint8Array): Uint8Array | null {
  if (!body.includes(0x5c)) return body;
  const out = new Uint8Array(body.length);
  let w = 0;
  for (let i = 0; i < body.length; ) {
    const c = body[i++]!;
    if (c !== 0x5c) {
      out[w++] = c;
      continue;
    }
    if (i >= body.length) return null; // trailing backslash
    const e = body[i++]!;
    switch (e) {
      case 0x0a: // backslash-newline: line continuation
        break;
      case 0x5c:
      case 0x27:
      case 0x22:
        out[w++] = e;
        break;
      case 0x61: out[w++] = 0x07; break; // \a
      case 0x62: out[w++] = 0x08; break; // \b
      case 0x66: out[w++] = 0x0c; break; // \f
      case 0x6e: out[w++] = 0x0a; break; // \n
      case 0x72: out[w++] = 0x0d; break; // \r
      case 0x74: out[w++] = 0x09; break; // \t
      case 0x76: out[w++] = 0x0b; break; // \v
      case 0x78: { // \xhh
        const h = String.fromCharCode(body[i] ?? 0, body[i + 1] ?? 0);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) return null;
        out[w++] = parseInt(h, 16);
        i += 2;
        break;
      }
      default:
        if (e >= 0x30 && e <= 0x37) {
          let v = e - 0x30;
          for (let k = 0; k < 2 && i < body.length && body[i]! >= 0x30 && body[i]! <= 0x37; k++) v = v * 8 + (body[i++]! - 0x30);
          out[w++] = v & 0xff;
        } else {
          out[w++] = 0x5c;
          out[w++] = e;
        }
    }
  }
  return out.subarray(0, w);
}

/** Python's `raw-unicode-escape` decoding (protocol-0 UNICODE). */
export function rawUnicodeEscapeDecode(b: Uint8Array): string | null {
  const parts: string[] = [];
  let chunk = '';
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    if (c !== 0x5c) {
      chunk += String.fromCharCode(c);
      i++;
      if (chunk.length > 8192) {
        parts.push(chunk);
        chunk = '';
      }
      continue;
    }
    // count backslashes
    let j = i;
    while (j < b.length && b[j] === 0x5c) j++;
    const count = j - i;
    const next = b[j];
    if (count % 2 === 1 && (next === 0x75 || next === 0x55)) {
      chunk += '\\'.repeat(count - 1);
      const digits = next === 0x75 ? 4 : 8;
      let hex = '';
      for (let k = 0; k < digits; k++) hex += String.fromCharCode(b[j + 1 + k] ?? 0);
      if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) return null;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) return null;
      chunk += String.fromCodePoint(cp);
      i = j + 1 + digits;
    } else {
      chunk += '\\'.repeat(count);
      i = j;
    }
  }
  parts.push(chunk);
  return parts.join('');
}
