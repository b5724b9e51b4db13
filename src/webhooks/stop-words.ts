/**
 * Whether a reply asks to stop receiving messages ("BAJA", "stop por favor", "Não quero mais").
 * A match records an opt-out, which suppresses the number for every future campaign, so the
 * rule is deliberately narrow: the reply must *be* the request, not merely mention it.
 *
 * The rule, after normalizing (NFD with accents removed, lower case, every run of characters
 * that are not letters or digits - punctuation, emoji, line breaks - turned into one space):
 * - the reply is a stop phrase ("baja", "no mas", "nao quero"), or
 * - it is a stop phrase plus at most MAX_EXTRA_WORDS (3) more words before or after it, each a
 *   courtesy word ("por favor", "gracias", "please", "obrigado", "ya") or itself a one-word
 *   stop phrase ("stop stop", "baja gracias", "por favor stop").
 * A reply longer than MAX_REPLY_CHARS (200) once trimmed never matches.
 * So "Stop!!! 🙏" and "BAJA por favor" match; "Stop sending me offers", "para mañana" and
 * "¿Baja de precio?" do not. Words that are also everyday words when followed by others
 * ("para", "fin") are left out of the default list for that reason.
 */

/** Spanish, Portuguese and English opt-out requests, as people write them; compared normalized. */
export const DEFAULT_STOP_WORDS: readonly string[] = Object.freeze([
  // Spanish
  'BAJA',
  'DE BAJA',
  'DAR DE BAJA',
  'DARME DE BAJA',
  'DARSE DE BAJA',
  'STOP',
  'PARAR',
  'ALTO',
  'BASTA',
  'YA BASTA',
  'CANCELAR',
  'CANCELAR SUSCRIPCIÓN',
  'ANULAR SUSCRIPCIÓN',
  'DESUSCRIBIR',
  'DESUSCRIBIRME',
  'DESUSCRIBIRSE',
  'DESINSCRIBIR',
  'DESINSCRIBIRME',
  'DESAFILIAR',
  'DESAFILIARME',
  'NO MÁS',
  'NO MÁS MENSAJES',
  'NO ENVIAR',
  'NO ENVIAR MÁS',
  'NO ME ENVÍEN MÁS',
  'NO ME ESCRIBAN MÁS',
  'NO QUIERO',
  'NO QUIERO MÁS',
  'NO QUIERO RECIBIR MÁS',
  'NO QUIERO RECIBIR MENSAJES',
  'ELIMINAR',
  'ELIMINARME',
  'BORRAR',
  'BORRARME',
  'SALIR',
  'QUITAR',
  'SACARME',
  'REMOVER',
  // Portuguese
  'SAIR',
  'PARE',
  'CHEGA',
  'DESCADASTRAR',
  'DESCADASTRE',
  'DESCADASTRAR-ME',
  'DESINSCREVER',
  'CANCELAR INSCRIÇÃO',
  'NÃO QUERO',
  'NÃO QUERO MAIS',
  'NÃO QUERO RECEBER',
  'NÃO ENVIE MAIS',
  'SAIR DA LISTA',
  // English
  'STOPALL',
  'UNSUBSCRIBE',
  'UNSUB',
  'CANCEL',
  'END',
  'QUIT',
  'OPT OUT',
  'OPTOUT',
  'REMOVE',
  'REMOVE ME',
  'NO MORE',
]);

/** Most words a reply may carry besides its stop phrase. */
const MAX_EXTRA_WORDS = 3;

/** Words that soften a request without changing it; normalized. */
const COURTESY_WORDS: ReadonlySet<string> = new Set([
  'por', 'favor', 'porfa', 'porfavor', 'pf', 'gracias', 'ya', 'ahora', 'ok',
  'please', 'pls', 'plz', 'thanks', 'thank', 'you', 'thx', 'now',
  'obrigado', 'obrigada', 'agora', 'ja',
]);

// Longer than any stop phrase with its courtesy words: not worth normalizing.
const MAX_REPLY_CHARS = 200;

type CompiledWords = { phrases: readonly (readonly string[])[]; singleWords: ReadonlySet<string> };

/** Lower case, accents removed, every run of non-letters/digits collapsed to one space, trimmed. */
export function normalizeReply(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** True when the reply asks to stop (see the rule at the top of this file). */
export function isStopReply(text: string | null, words: readonly string[]): boolean {
  if (text === null) return false;
  const trimmed = text.trim();
  if (trimmed.length > MAX_REPLY_CHARS) return false;
  const normalized = normalizeReply(trimmed);
  if (normalized === '') return false;
  const tokens = normalized.split(' ');
  const { phrases, singleWords } = compile(words);
  return phrases.some((phrase) => coversReply(phrase, tokens, singleWords));
}

function coversReply(phrase: readonly string[], tokens: readonly string[], singleWords: ReadonlySet<string>): boolean {
  const extra = tokens.length - phrase.length;
  if (extra < 0 || extra > MAX_EXTRA_WORDS) return false;
  for (let start = 0; start + phrase.length <= tokens.length; start++) {
    if (!phrase.every((word, i) => tokens[start + i] === word)) continue;
    const rest = [...tokens.slice(0, start), ...tokens.slice(start + phrase.length)];
    if (rest.every((word) => COURTESY_WORDS.has(word) || singleWords.has(word))) return true;
  }
  return false;
}

// Normalized on every call: a few dozen short strings cost microseconds, and a cache keyed by
// the array would go stale if a caller changed its list in place.
function compile(words: readonly string[]): CompiledWords {
  const phrases = words.map(normalizeReply).filter((p) => p !== '').map((p) => p.split(' '));
  return { phrases, singleWords: new Set(phrases.filter((p) => p.length === 1).map((p) => p[0] as string)) };
}
