/**
 * Writes demo/recipients.csv: ~10k rows as a Chilean marketing team's Excel would export them
 * (`;`-separated, Windows-1252, mixed phone formats), with deliberately bad rows of each kind
 * the ingest stage must reject. Deterministic, so the committed file can be regenerated.
 *   node --import tsx scripts/make-demo-csv.ts
 */
import { writeFileSync } from 'node:fs';
import iconv from 'iconv-lite';

let seed = 20261122;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;

const names = ['José', 'María', 'Ñuño', 'Inés', 'Martín', 'Sofía', 'Benjamín', 'Agustina', 'Tomás', 'Antonella', 'Matías', 'Josefa', 'Vicente', 'Florencia', 'Joaquín'];
const surnames = ['González', 'Muñoz', 'Rojas', 'Díaz', 'Pérez', 'Soto', 'Contreras', 'Silva', 'Martínez', 'Sepúlveda', 'Morales', 'Rodríguez', 'López', 'Fuentes', 'Hernández'];

function phoneText(n: number): string {
  const digits = String(40_000_000 + n * 7);
  const local = `9${digits}`; // 9 + 8 digits: a Chilean mobile
  switch (n % 5) {
    case 0: return `+56 9 ${digits.slice(0, 4)} ${digits.slice(4)}`;
    case 1: return local;
    case 2: return `56${local}`;
    case 3: return `+56${local}`;
    default: return `9 ${digits.slice(0, 4)} ${digits.slice(4)}`;
  }
}

const lines = ['Teléfono;Nombre;Monto'];
const total = 10_000;
for (let i = 0; i < total; i++) {
  const name = `${pick(names)} ${pick(surnames)}`;
  const amount = `$${(Math.floor(random() * 900) + 10) * 1000}`.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  if (i % 500 === 17) lines.push(`5.69123E+10;${name};${amount}`); // Excel ate the number
  else if (i % 500 === 101) lines.push(`12345;${name};${amount}`); // not a phone
  else if (i % 500 === 211) lines.push(`${phoneText(i)};;${amount}`); // empty variable
  else if (i % 500 === 307) lines.push(`${phoneText(i)};${name}`); // a column short
  else if (i % 500 === 401) lines.push(`${phoneText(i - 1)};${name};${amount}`); // duplicate of the row before
  else if (i % 1000 === 450) lines.push(`${phoneText(i)};"${name}; hijo";${amount}`); // quoted field with the delimiter
  else lines.push(`${phoneText(i)};${name};${amount}`);
}
writeFileSync(new URL('../demo/recipients.csv', import.meta.url), iconv.encode(`${lines.join('\r\n')}\r\n`, 'win1252'));
console.log(`wrote ${lines.length - 1} rows`);
