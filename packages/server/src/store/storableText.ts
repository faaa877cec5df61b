/**
 * Text PostgreSQL can store: `text` and `jsonb` refuse NUL, and `jsonb` refuses unpaired surrogates. A
 * client's request holding such text is refused with a 400 naming the field (http/jsonBody.ts,
 * http/storableUrl.ts); text that must be kept whatever it holds — the request log, a PSP's answer —
 * is stored with each such character replaced by U+FFFD.
 */

export function isStorable(text: string): boolean {
  return !text.includes('\u0000') && text.isWellFormed();
}

/** The name (as validation.ts names fields, e.g. `metadata.k`, `items[2]`) of the first text in `value` that cannot be stored. */
export function unstorableField(value: unknown, path: string, whole = 'body'): string | null {
  if (typeof value === 'string') return isStorable(value) ? null : path || whole;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, child] of Object.entries(value)) {
    const childPath = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    if (!isStorable(key)) return path || whole;
    const found = unstorableField(child, childPath, whole);
    if (found) return found;
  }
  return null;
}

export function storableText(text: string): string {
  return isStorable(text) ? text : text.replaceAll('\u0000', '\uFFFD').toWellFormed();
}

/** A copy of a JSON value with every string (keys too) made storable; the value itself when nothing needs it. */
export function storableCopy<T>(value: T): T {
  return unstorableField(value, '') === null ? value : (replaced(value) as T);
}

function replaced(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(replaced);
  return Object.fromEntries(Object.entries(value).map(([key, child]) => [storableText(key), replaced(child)]));
}
