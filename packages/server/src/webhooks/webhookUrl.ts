/**
 * Which receiver URLs may be registered (platform-guidelines §4.1 "URL rules") and which addresses a
 * delivery may connect to. Test mode lets a developer receive on their own machine over plain HTTP;
 * production mode is the platform: HTTPS to a world-reachable host only.
 */
import { BlockList, isIP } from 'node:net';
import type { Mode } from '../config.ts';

export const MAX_URL_LENGTH = 2048;

/** Hosts a developer's own receiver listens on; plain HTTP to them is accepted in test mode only. */
const LOCAL_RECEIVER_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const privateRanges = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  privateRanges.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  privateRanges.addSubnet(network, prefix, 'ipv6');
}

/** True for loopback, private, link-local and other addresses the public internet cannot route to. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return privateRanges.check(mapped[1] as string, 'ipv4');
  const family = isIP(bare);
  if (family === 4) return privateRanges.check(bare, 'ipv4');
  if (family === 6) return privateRanges.check(bare, 'ipv6');
  return false;
}

/** Names that never resolve to a world-reachable host. */
function isLocalName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return (
    name === 'localhost' || name.endsWith('.localhost') || name.endsWith('.local') || name.endsWith('.internal') || !name.includes('.')
  );
}

/**
 * Why `url` cannot be registered, or null when it can. The reason is the `extraDetails` text of the
 * 400 (§4.1 [rec] validation order: absolute, https, not local or private, at most 2048 characters).
 */
export function webhookUrlProblem(url: string, mode: Mode): string | null {
  if (url.length > MAX_URL_LENGTH) return `The field Url must be a string with a maximum length of '${MAX_URL_LENGTH}'.`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'The field Url must be an absolute URL.';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'The field Url must be an https URL.';
  // The HMAC signature is the receiver's authentication (§4.1); credentials in the URL would be sent to
  // every proxy on the way and stored in logs.
  if (parsed.username || parsed.password) return 'The field Url must not contain a user name or password.';
  if (mode === 'test') {
    if (parsed.protocol === 'http:' && !LOCAL_RECEIVER_HOSTS.has(parsed.hostname)) {
      return 'The field Url must be an https URL (plain http is accepted for localhost, 127.0.0.1 and [::1] in test mode only).';
    }
    return null;
  }
  if (parsed.protocol !== 'https:') return 'The field Url must be an https URL.';
  if (isIP(parsed.hostname.replace(/^\[|\]$/g, '')) !== 0) {
    if (isPrivateAddress(parsed.hostname)) return 'The field Url must point to a world-reachable host, not a private or loopback address.';
  } else if (isLocalName(parsed.hostname)) {
    return 'The field Url must point to a world-reachable host, not localhost or a local name.';
  }
  return null;
}
