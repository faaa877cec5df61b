/**
 * JSON request bodies, parsed so that `reference`, `phoneNumber` and metadata values sent as JSON
 * numbers keep their literal digits (spec §1 leniency, open question 7): official examples send
 * references longer than a double can hold. Uses the reviver's source-text access (Node 22+).
 */
import { ValidationError } from '../errors.ts';
import { unstorableField } from '../store/storableText.ts';

const LITERAL_KEYS = new Set(['reference', 'phoneNumber']);

/** A number in flight, kept with its source text until its parent object decides what it is. */
class NumberLiteral {
  readonly value: number;
  readonly source: string;
  constructor(value: number, source: string) {
    this.value = value;
    this.source = source;
  }
}

type ReviverContext = { source?: string };

/** Whether a number under `key` keeps its literal digits: metadata values, references and phone numbers. */
function keepsLiteral(key: string, holderIsMetadata: boolean): boolean {
  return holderIsMetadata || LITERAL_KEYS.has(key);
}

/** A `metadata` member that is an object (its values are text, numbers included). */
function isMetadata(key: string, value: object): boolean {
  return key === 'metadata' && !Array.isArray(value);
}

function settle(key: string, holderIsMetadata: boolean, value: unknown): unknown {
  if (!(value instanceof NumberLiteral)) return value;
  return keepsLiteral(key, holderIsMetadata) ? value.source : value.value;
}

function reviver(this: unknown, key: string, value: unknown, context?: ReviverContext): unknown {
  // JSON.parse makes "__proto__" an own property; a later Object.assign would turn it into a prototype.
  if (key === '__proto__') throw new SyntaxError('"__proto__" is not allowed as a property name');
  if (typeof value === 'number') return new NumberLiteral(value, context?.source ?? String(value));
  if (value !== null && typeof value === 'object') {
    const metadata = isMetadata(key, value);
    for (const [childKey, child] of Object.entries(value)) {
      const settled = settle(childKey, metadata, child);
      if (settled !== child) (value as Record<string, unknown>)[childKey] = settled;
    }
  }
  return value;
}

/** Whether the reviver would change anything: a number it keeps as its literal digits, or a "__proto__" key. */
function needsReviver(value: unknown, key: string, holderIsMetadata: boolean): boolean {
  if (typeof value === 'number') return keepsLiteral(key, holderIsMetadata);
  if (value === null || typeof value !== 'object') return false;
  if (Object.hasOwn(value, '__proto__')) return true;
  const metadata = isMetadata(key, value);
  return Object.entries(value).some(([childKey, child]) => needsReviver(child, childKey, metadata));
}

/**
 * No request of the API nests deeper than a handful of levels; a deeper body is refused before parsing,
 * so that no recursive step (reviver, fingerprint, jsonb) can run out of stack on it.
 */
export const MAX_JSON_DEPTH = 32;

function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      // A backslash escapes the next character (which may be a quote).
      if (ch === 0x5c) i++;
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return deepest;
}

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  if (nestingDepth(text) > MAX_JSON_DEPTH) {
    throw new ValidationError([{ name: 'body', reason: `The request body nests deeper than ${MAX_JSON_DEPTH} levels.` }]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
    // The reviver with source access is several times slower than a plain parse, and most bodies have no
    // number it would keep as text: parse again with it only when one does (or to refuse "__proto__").
    if (needsReviver(parsed, '', false)) parsed = JSON.parse(text, reviver as (this: unknown, key: string, value: unknown) => unknown);
  } catch (error) {
    throw new ValidationError([{ name: 'body', reason: `The request body is not valid JSON: ${(error as Error).message}` }]);
  }
  const unstorable = unstorableField(parsed, '');
  if (unstorable) {
    throw new ValidationError([
      { name: unstorable, reason: `The field ${unstorable} must not contain NUL characters or unpaired surrogates.` },
    ]);
  }
  return parsed instanceof NumberLiteral ? parsed.value : parsed;
}

/**
 * JSON.parse keeps the last of duplicate keys silently; metadata must refuse them (4110). Scans the
 * raw text of valid JSON and returns the keys that repeat inside any object stored under `member`.
 */
export function duplicateKeysUnder(text: string, member: string): string[] {
  if (!text.includes(`"${member}"`)) return [];
  const duplicates: string[] = [];
  // One frame per open object/array: the keys seen so far and whether it is the watched member.
  const stack: { keys: Set<string> | null; watched: boolean }[] = [];
  let lastKey: string | null = null;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const str = JSON.parse(text.slice(i, j + 1)) as string;
      const frame = stack[stack.length - 1];
      if (expectKey && frame?.keys) {
        if (frame.watched && frame.keys.has(str)) duplicates.push(str);
        frame.keys.add(str);
        lastKey = str;
        expectKey = false;
      }
      i = j;
    } else if (ch === '{') {
      stack.push({ keys: new Set(), watched: lastKey === member && stack.length === 1 });
      expectKey = true;
      lastKey = null;
    } else if (ch === '[') {
      stack.push({ keys: null, watched: false });
      lastKey = null;
    } else if (ch === '}' || ch === ']') {
      stack.pop();
      lastKey = null;
    } else if (ch === ',') {
      expectKey = stack[stack.length - 1]?.keys !== null && stack.length > 0;
    }
  }
  return duplicates;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route reads nothing from the body, so no body is parsed or refused (the token call, §2.1). */
    ignoreBody?: boolean;
  }
}

/** Whether the route of `request` declared `config: { ignoreBody: true }`. */
export function bodyIgnored(request: { routeOptions: { config: { ignoreBody?: boolean } } }): boolean {
  return request.routeOptions.config.ignoreBody === true;
}
