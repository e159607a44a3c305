/**
 * Redis Cluster's key slots: CRC16 (XMODEM) of the key's hash tag (the text between its first `{`
 * and the next `}`, when not empty) or of the whole key, modulo 16384. The store uses it to group
 * a batch's entries by the node that serves them.
 */
export const CLUSTER_SLOTS = 16_384;

export function keySlot(key: string): number {
  const bytes = Buffer.from(key);
  let from = 0;
  let to = bytes.length;
  const open = bytes.indexOf(0x7b);
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) {
      from = open + 1;
      to = close;
    }
  }
  let crc = 0;
  for (let i = from; i < to; i++) {
    crc ^= bytes[i] << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % CLUSTER_SLOTS;
}
