// A minimal DER reader: enough ASN.1 to walk a PKCS#12 file. Definite lengths only (DER).

export interface DerNode {
  tag: number;
  constructed: boolean;
  /** The content octets. */
  value: Buffer;
  /** The whole TLV. */
  raw: Buffer;
}

export function readDer(buf: Buffer, offset = 0): DerNode {
  const tag = buf[offset];
  if (tag === undefined) throw new Error('truncated DER');
  let pos = offset + 1;
  let len = buf[pos++];
  if (len === undefined) throw new Error('truncated DER');
  if (len === 0x80) throw new Error('indefinite-length (BER) encoding is not supported');
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 4) throw new Error('DER length too large');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[pos++] ?? 0);
  }
  if (pos + len > buf.length) throw new Error('truncated DER');
  return { tag, constructed: (tag & 0x20) !== 0, value: buf.subarray(pos, pos + len), raw: buf.subarray(offset, pos + len) };
}

export function children(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let offset = 0;
  while (offset < node.value.length) {
    const child = readDer(node.value, offset);
    out.push(child);
    offset += child.raw.length;
  }
  return out;
}

export function child(node: DerNode, index: number): DerNode {
  const c = children(node)[index];
  if (!c) throw new Error('unexpected ASN.1 structure');
  return c;
}

export function oid(node: DerNode): string {
  if (node.tag !== 0x06) throw new Error('expected an OBJECT IDENTIFIER');
  const bytes = node.value;
  const first = bytes[0] ?? 0;
  const parts = [Math.floor(first / 40), first % 40];
  let value = 0;
  for (let i = 1; i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

export function integer(node: DerNode): number {
  if (node.tag !== 0x02) throw new Error('expected an INTEGER');
  let v = 0;
  for (const b of node.value) v = v * 256 + b;
  return v;
}

/** OCTET STRING content, also when constructed of segments. */
export function octets(node: DerNode): Buffer {
  if (node.tag === 0x04) return node.value;
  if (node.tag === 0x24) return Buffer.concat(children(node).map(octets));
  throw new Error('expected an OCTET STRING');
}
