import { createHash } from 'node:crypto';

/**
 * Deterministic event ids. Replaying the same inputs must give byte-identical events, so ids are
 * derived from what the event is about, never drawn at random.
 *
 * Layout (RFC 9562 UUIDv8, "custom"): the first 48 bits hold the event's domain time in ms, the
 * rest a SHA-256 of the name parts. Ids of events written in time order then land at the right
 * end of the store's unique index instead of at random pages, which keeps batched appends fast,
 * and two different names never share an id (122 bits minus the time prefix of hash).
 */
export function deterministicId(timeMs: number, ...parts: (string | number)[]): string {
  const hash = createHash('sha256').update(parts.join('\u001f')).digest('hex');
  const time = Math.max(0, Math.floor(timeMs)).toString(16).padStart(12, '0').slice(-12);
  const variant = ((Number.parseInt(hash[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-8${hash.slice(0, 3)}-${variant}${hash.slice(3, 6)}-${hash.slice(6, 18)}`;
}
