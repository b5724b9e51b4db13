/**
 * isStopReply: a reply that *is* an opt-out request matches (any case, accents, punctuation,
 * emoji, a few courtesy words); a message that merely mentions one does not.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_STOP_WORDS, isStopReply, normalizeReply } from '../../src/webhooks/stop-words.js';

const stop = (text: string | null): boolean => isStopReply(text, DEFAULT_STOP_WORDS);

describe('isStopReply with the default words', () => {
  it.each([
    'BAJA',
    'baja',
    ' Baja. ',
    'STOP',
    'Stop!!!',
    'stop 🙏',
    '🛑 STOP 🛑',
    'NO MAS',
    'no más',
    'No Más!!',
    'NO MÁS MENSAJES',
    'Parar',
    'SAIR',
    'sair.',
    'UNSUBSCRIBE',
    'Unsubscribe please',
    'CANCELAR',
    'Desuscribir',
    'desuscribirme',
    'Darme de baja',
    'NÃO QUERO',
    'nao quero',
    'Não quero mais',
    'Descadastrar',
    'opt-out',
    'Opt out',
    'Basta ya',
    '¡Ya basta!',
  ])('%j asks to stop', (text) => {
    expect(stop(text)).toBe(true);
  });

  it.each([
    'stop por favor',
    'Stop, por favor.',
    'BAJA gracias',
    'baja por favor gracias',
    'Por favor stop',
    'stop stop',
    'no mas por favor',
    'please stop',
    'Sair agora, obrigado',
  ])('%j: a stop phrase with courtesy words still asks to stop', (text) => {
    expect(stop(text)).toBe(true);
  });

  it.each([
    'Please stop sending me these messages about your offers, I already told you twice',
    'Stop sending me offers',
    'I will stop by the store tomorrow',
    '¿Baja de precio?',
    'Baja el precio por favor',
    'para mañana',
    'No quiero la promoción pero sí la otra',
    'No me interesa',
    'no',
    'Hola',
    'Sí, confirmo',
    'gracias',
    'por favor',
    'stop por favor gracias ya',
    '',
    '   ',
    '🙏🙏',
  ])('%j does not', (text) => {
    expect(stop(text)).toBe(false);
  });

  it('null (a media message without a caption) does not', () => {
    expect(stop(null)).toBe(false);
  });

  it('a very long message does not, whatever it contains', () => {
    expect(stop(`STOP ${'por favor '.repeat(30)}`)).toBe(false);
    expect(stop(`  STOP${' '.repeat(300)}\n`)).toBe(true);
  });
});

describe('isStopReply with a tenant\'s own words', () => {
  it('matches only the words given, normalized the same way', () => {
    const words = ['Anular', 'NO MOLESTAR'];
    expect(isStopReply('anular', words)).toBe(true);
    expect(isStopReply('No molestar, gracias', words)).toBe(true);
    expect(isStopReply('STOP', words)).toBe(false);
  });

  it('an empty list matches nothing; blank words are skipped', () => {
    expect(isStopReply('STOP', [])).toBe(false);
    expect(isStopReply('gracias', ['', '  ', '!!'])).toBe(false);
  });
});

describe('DEFAULT_STOP_WORDS', () => {
  it('is frozen, has no duplicates once normalized, and covers the three languages', () => {
    expect(Object.isFrozen(DEFAULT_STOP_WORDS)).toBe(true);
    const normalized = DEFAULT_STOP_WORDS.map(normalizeReply);
    expect(new Set(normalized).size).toBe(normalized.length);
    for (const word of ['baja', 'stop', 'no mas', 'parar', 'sair', 'unsubscribe', 'cancelar', 'desuscribir', 'nao quero']) expect(normalized).toContain(word);
  });

  it('leaves out everyday words that would match replies like "para mañana"', () => {
    for (const word of ['para', 'no', 'fin', 'si']) expect(DEFAULT_STOP_WORDS.map(normalizeReply)).not.toContain(word);
  });
});

describe('normalizeReply', () => {
  it('folds case and accents and collapses punctuation, emoji and line breaks', () => {
    expect(normalizeReply('  ¡NÃO   quero\nMÁS!! 🙅‍♀️ ')).toBe('nao quero mas');
  });
});
