/**
 * The one place secrets are taken out of text the engine keeps or shows: provider error texts
 * and status reasons (stored, returned by the API, exported), and provider errors turned into
 * API errors. Two layers:
 *
 * - By value (`SecretScrubber`), with the account's own credential values: every form a
 *   provider may echo a value in (raw, JSON-escaped, URL- and form-encoded, base64 and
 *   base64url at any byte alignment, hex) and any run of 8 or more characters of one of
 *   those forms (a token's first or last 12 characters) becomes `[redacted]`. Values shorter
 *   than 8 characters are replaced only whole; shorter than 4, not at all (they would eat words).
 * - By pattern (`scrubCredentialPatterns`), for adapters' parse functions, which never see the
 *   account: `Bearer x`, `token=x`, `"password": "x"`...
 */
import type { SendOutcome } from '../providers/types.js';

const MARK = '[redacted]';
/** A run of this many characters of a secret (in any encoding) is redacted. */
export const SECRET_RUN = 8;
/** Provider text kept on an outcome (and so stored): at most this many characters. */
export const PROVIDER_TEXT_MAX = 500;

/** Every string value in a credentials object (nested too), at least 4 characters long. */
export function secretValuesOf(credentials: unknown): string[] {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string' && value.length >= 4) found.add(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  walk(credentials);
  return [...found];
}

/** The forms a provider may echo a secret in. Base64 at the three byte alignments keeps only the characters that depend on the secret alone. */
function encodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const json = JSON.stringify(secret).slice(1, -1);
  const uri = encodeURIComponent(secret);
  const form = new URLSearchParams({ s: secret }).toString().slice(2);
  const forms = [secret, json, json.replace(/\//g, '\\/'), uri, form, lowerPercent(uri), lowerPercent(form), bytes.toString('hex'), bytes.toString('hex').toUpperCase()];
  for (let shift = 0; shift < 3; shift += 1) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    const from = Math.ceil((8 * shift) / 6);
    const to = Math.floor((8 * (shift + bytes.length)) / 6);
    forms.push(padded.toString('base64').slice(from, to), padded.toString('base64url').slice(from, to));
  }
  if (bytes.length % 3 === 0) forms.push(bytes.toString('base64'));
  return [...new Set(forms.filter((f) => f.length > 0))];
}

function lowerPercent(text: string): string {
  return text.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
}

export class SecretScrubber {
  /** Every SECRET_RUN-character window of every encoded form of the long secrets. */
  private runs: Set<string> | undefined;
  /** Encoded forms of secrets too short for the run rule: replaced whole. */
  private wholes: string[] = [];

  constructor(private readonly secrets: readonly string[]) {}

  get empty(): boolean {
    return this.secrets.length === 0;
  }

  scrub(text: string): string {
    if (this.secrets.length === 0 || text.length === 0) return text;
    const runs = this.build();
    const covered = new Uint8Array(text.length);
    let any = false;
    for (let i = 0; i + SECRET_RUN <= text.length; i += 1) {
      if (runs.has(text.slice(i, i + SECRET_RUN))) {
        covered.fill(1, i, i + SECRET_RUN);
        any = true;
      }
    }
    for (const whole of this.wholes) {
      for (let at = text.indexOf(whole); at !== -1; at = text.indexOf(whole, at + 1)) {
        covered.fill(1, at, at + whole.length);
        any = true;
      }
    }
    if (!any) return text;
    let out = '';
    for (let i = 0; i < text.length; ) {
      if (!covered[i]) {
        out += text[i];
        i += 1;
        continue;
      }
      while (i < text.length && covered[i]) i += 1;
      out += MARK;
    }
    return out;
  }

  /** An outcome with every text scrubbed, and the provider's texts cut to PROVIDER_TEXT_MAX characters. */
  scrubOutcome(result: SendOutcome): SendOutcome {
    const clean: SendOutcome = { ...result, message: this.scrub(result.message) };
    if (result.providerText !== undefined) clean.providerText = this.scrub(result.providerText).slice(0, PROVIDER_TEXT_MAX);
    if (result.raw !== undefined) clean.raw = this.scrub(result.raw).slice(0, PROVIDER_TEXT_MAX);
    if (result.providerCode !== undefined) clean.providerCode = this.scrub(result.providerCode);
    return clean;
  }

  private build(): Set<string> {
    if (this.runs) return this.runs;
    const runs = new Set<string>();
    const wholes = new Set<string>();
    for (const secret of this.secrets) {
      for (const form of encodedForms(secret)) {
        if (form.length < SECRET_RUN) {
          if (secret.length >= 4 && form.length >= 4) wholes.add(form);
          continue;
        }
        for (let i = 0; i + SECRET_RUN <= form.length; i += 1) runs.add(form.slice(i, i + SECRET_RUN));
      }
    }
    // Longest first, so a short value inside a longer one does not leave the rest behind.
    this.wholes = [...wholes].sort((a, b) => b.length - a.length);
    this.runs = runs;
    return runs;
  }
}

// Credentials objects are reused for as long as an account's settings are cached: build each scrubber once.
const byCredentials = new WeakMap<object, SecretScrubber>();

/** The scrubber for an account's credentials object (any shape; every string value in it is a secret). */
export function scrubberFor(credentials: unknown): SecretScrubber {
  if (typeof credentials !== 'object' || credentials === null) return new SecretScrubber([]);
  let scrubber = byCredentials.get(credentials);
  if (!scrubber) {
    scrubber = new SecretScrubber(secretValuesOf(credentials));
    byCredentials.set(credentials, scrubber);
  }
  return scrubber;
}

/** `text` with every form of every credential value in `credentials` redacted. */
export function scrubSecrets(text: string, credentials: unknown): string {
  return scrubberFor(credentials).scrub(text);
}

/** An outcome scrubbed of an account's credentials, with provider texts capped. */
export function scrubOutcome(result: SendOutcome, credentials: unknown): SendOutcome {
  return scrubberFor(credentials).scrubOutcome(result);
}

// Secrets a provider might echo back in an error body: auth headers and form/JSON fields.
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/\b(Bearer|Key|Basic)\s+[^\s"',;}]+/gi, `$1 ${MARK}`],
  [/\b(token|login|password|api_?key|access_token)=[^&\s"']*/gi, `$1=${MARK}`],
  [/("(?:token|login|password|api_?key|access_?token|authorization|app_?secret)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi, `$1"${MARK}"`],
  [/\b(public token)\s+(?!\[redacted\]|Bearer\b)[^\s"',;}]+/gi, `$1 ${MARK}`],
];

/**
 * What looks like a credential, removed from provider text by pattern. For parse functions,
 * which do not see the account; the sender also scrubs by value (SecretScrubber).
 */
export function scrubCredentialPatterns(text: string): string {
  let result = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) result = result.replace(pattern, replacement);
  return result;
}
