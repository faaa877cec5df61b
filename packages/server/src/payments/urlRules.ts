/**
 * URL rules of platform-guidelines §9 (spec §5.2 rule 6, error 4090): an absolute URL without
 * whitespace; `https://` with a DNS host that has a dot, or an IP literal — never `localhost`; or,
 * where the platform app-switches, a custom app scheme (`myapp://…`).
 *
 * Test mode also accepts loopback hosts (`http://localhost`, `http://127.0.0.1`, `[::1]`) so a shop
 * running on a developer's machine works against a local Kassa (a documented deviation, see
 * docs/api-compatibility.md); production never does.
 */
const FORBIDDEN_SCHEMES = new Set(['http', 'https', 'javascript', 'data', 'file', 'vbscript', 'ftp', 'blob', 'about', 'mailto', 'tel']);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function hasSpaceOrControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) return true;
  }
  return /\s/.test(text);
}

function parsed(text: string): URL | null {
  // Apache-Commons-style validation refuses whitespace and control characters anywhere (§9).
  if (hasSpaceOrControl(text)) return null;
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

export function isLoopback(url: URL): boolean {
  return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTS.has(url.hostname);
}

/** Kept for callers that allow plain-http loopback only. */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

function isDnsOrIpHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return false;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(hostname)) return hostname.split('.').every((part) => Number(part) <= 255);
  if (hostname.startsWith('[')) return true;
  return /^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]$/i.test(hostname);
}

function isHttpsWithHost(url: URL): boolean {
  return url.protocol === 'https:' && isDnsOrIpHost(url.hostname);
}

/** A custom app scheme such as `myapp://path` (not http, not a script or data scheme). */
function isAppLink(url: URL, text: string): boolean {
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  return (
    /^[a-z][a-z0-9+.-]*$/.test(scheme) &&
    !FORBIDDEN_SCHEMES.has(scheme) &&
    text.length > `${scheme}://`.length &&
    text.slice(scheme.length, scheme.length + 3) === '://'
  );
}

/** A URL the user's browser or app is sent back to: `returnUrl`, `receiptUrl`. */
export function isValidReturnUrl(text: string, testMode: boolean): boolean {
  const url = parsed(text);
  if (!url) return false;
  if (testMode && isLoopback(url)) return true;
  return isHttpsWithHost(url) || isAppLink(url, text);
}

/** A web page shown to the user: receipt `productUrl`, `merchantLegalLinks` (https only, §14.6, §14.10). */
export function isValidHttpsUrl(text: string, testMode: boolean): boolean {
  const url = parsed(text);
  if (!url) return false;
  return (testMode && isLoopback(url)) || isHttpsWithHost(url);
}

/** A URL the platform itself calls (Express callbacks, PSP card callbacks): HTTPS only, loopback in test mode. */
export function isValidCallbackUrl(text: string, testMode: boolean): boolean {
  return isValidHttpsUrl(text, testMode);
}
