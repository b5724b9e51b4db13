/**
 * The phones a campaign already has, to skip duplicates: an open-addressing hash set of E.164
 * numbers stored as float64 (15 digits fit exactly), 8 to 16 bytes a phone instead of the ~80
 * a Set<string> costs. A million phones is 16 MiB.
 */
const EMPTY = 0;
const INITIAL_CAPACITY = 1 << 16;

export class PhoneSet {
  private table = new Float64Array(INITIAL_CAPACITY);
  private count = 0;
  /** Phones that are not plain E.164 digits (written by something other than ingest). */
  private readonly odd = new Set<string>();

  get size(): number {
    return this.count + this.odd.size;
  }

  /** Adds `e164`; false when it was there already. */
  add(e164: string): boolean {
    const key = toKey(e164);
    if (key === null) {
      if (this.odd.has(e164)) return false;
      this.odd.add(e164);
      return true;
    }
    if ((this.count + 1) * 2 > this.table.length) this.grow();
    if (!insert(this.table, key)) return false;
    this.count++;
    return true;
  }

  has(e164: string): boolean {
    const key = toKey(e164);
    if (key === null) return this.odd.has(e164);
    const table = this.table;
    const mask = table.length - 1;
    for (let slot = hash(key) & mask; ; slot = (slot + 1) & mask) {
      const found = table[slot];
      if (found === EMPTY) return false;
      if (found === key) return true;
    }
  }

  private grow(): void {
    const old = this.table;
    this.table = new Float64Array(old.length * 2);
    for (const key of old) if (key !== EMPTY) insert(this.table, key);
  }
}

function toKey(e164: string): number | null {
  if (!/^\+[1-9]\d{1,14}$/.test(e164)) return null;
  return Number(e164.slice(1));
}

function insert(table: Float64Array, key: number): boolean {
  const mask = table.length - 1;
  let slot = hash(key);
  for (;;) {
    slot &= mask;
    const found = table[slot];
    if (found === EMPTY) {
      table[slot] = key;
      return true;
    }
    if (found === key) return false;
    slot++;
  }
}

/** The high and low 32 bits of the number (up to 15 digits), mixed by murmur3's finalizer. */
function hash(key: number): number {
  let h = (key >>> 0) ^ Math.imul(Math.floor(key / 4294967296), 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
