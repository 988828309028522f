/** Docker multiplexes stdout/stderr with 8-byte frame headers when there is no TTY. */
export function demuxLogs(buffer: Buffer): string {
  const parts: string[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length && (buffer[offset] === 1 || buffer[offset] === 2) && buffer[offset + 1] === 0) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size).toString('utf8'));
    offset += 8 + size;
  }
  if (offset < buffer.length) parts.push(buffer.subarray(offset).toString('utf8'));
  return parts.join('');
}
