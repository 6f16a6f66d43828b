// URL lists as etcd 3.4 accepts them (pkg/types.NewURLs, net/url.Parse, the bind/advertise checks
// in embed/config.go, the `name=url,...` initial-cluster syntax). Accepting exactly what etcd
// accepts, with etcd's error text, means a working etcd command line works for ketch and a broken
// one fails with the message the operator would search for. WHATWG `URL` drops default ports and
// adds a trailing '/', so the Go-style text of every parsed URL is kept alongside it.
import { isIP } from 'node:net';
import { goQuote, goQuoteList, splitHostPort } from './flags.js';

const goText = new WeakMap<URL, string>();

/** The URL as etcd prints it (Go's url.URL.String()): `http://host:port`, no trailing slash. */
export function urlToString(u: URL): string {
  return goText.get(u) ?? `${u.protocol}//${u.host}`;
}

/** The port the URL names; an explicit `:80` on http (which WHATWG URL hides) is restored. */
export function urlPort(u: URL): number {
  if (u.port !== '') return Number(u.port);
  return u.protocol === 'https:' || u.protocol === 'unixs:' ? 443 : 80;
}

interface GoUrl {
  scheme: string;
  host: string;
  path: string;
  opaque: string;
  text: string;
}

function parseError(raw: string, why: string): Error {
  return new Error(`parse ${goQuote(raw)}: ${why}`);
}

function getScheme(raw: string): { scheme: string; rest: string } {
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] ?? '';
    if (/[a-zA-Z]/.test(c)) continue;
    if (/[0-9+\-.]/.test(c)) {
      if (i === 0) return { scheme: '', rest: raw };
      continue;
    }
    if (c === ':') {
      if (i === 0) throw parseError(raw, 'missing protocol scheme');
      return { scheme: raw.slice(0, i).toLowerCase(), rest: raw.slice(i + 1) };
    }
    return { scheme: '', rest: raw };
  }
  return { scheme: '', rest: raw };
}

function validOptionalPort(port: string): boolean {
  return port === '' || /^:[0-9]*$/.test(port);
}

const hostPunctuation = new Set('!$&\'()*+,;=:[]<>"-_.~');

function checkHost(raw: string, host: string): void {
  let colonPort = '';
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']');
    if (i < 0) throw parseError(raw, "missing ']' in host");
    colonPort = host.slice(i + 1);
  } else if (host.lastIndexOf(':') >= 0) {
    colonPort = host.slice(host.lastIndexOf(':'));
  }
  if (!validOptionalPort(colonPort)) throw parseError(raw, `invalid port ${goQuote(colonPort)} after host`);
  for (let i = 0; i < host.length; i++) {
    const c = host[i] ?? '';
    if (c === '%') throw parseError(raw, `invalid URL escape ${goQuote(host.slice(i, i + 3))}`);
    if (c.charCodeAt(0) < 0x80 && !/[a-zA-Z0-9]/.test(c) && !hostPunctuation.has(c)) {
      throw parseError(raw, `invalid character ${goQuote(c)} in host name`);
    }
  }
}

/** The part of Go's net/url.Parse that decides what etcd accepts in a URL flag. */
function goParseUrl(raw: string): GoUrl {
  if (/[\x00-\x1f\x7f]/.test(raw)) throw parseError(raw, 'net/url: invalid control character in URL');
  const hash = raw.indexOf('#');
  const noFrag = hash >= 0 ? raw.slice(0, hash) : raw;
  const { scheme, rest: afterScheme } = getScheme(noFrag);
  const q = afterScheme.indexOf('?');
  let rest = q >= 0 ? afterScheme.slice(0, q) : afterScheme;
  if (!rest.startsWith('/')) {
    if (scheme !== '') return { scheme, host: '', path: '', opaque: rest, text: raw };
    const colon = rest.indexOf(':');
    const slash = rest.indexOf('/');
    if (colon >= 0 && (slash < 0 || colon < slash)) {
      throw parseError(raw, 'first path segment in URL cannot contain colon');
    }
  }
  let host = '';
  if (rest.startsWith('//') && (scheme !== '' || !rest.startsWith('///'))) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    host = authority.slice(authority.lastIndexOf('@') + 1);
    checkHost(raw, host);
  }
  const badEscape = /%(?![0-9a-fA-F]{2})/.exec(rest);
  if (badEscape !== null)
    throw parseError(raw, `invalid URL escape ${goQuote(rest.slice(badEscape.index, badEscape.index + 3))}`);
  const text = scheme === '' ? raw : `${scheme}:${raw.slice(raw.indexOf(':') + 1)}`;
  return { scheme, host, path: rest, opaque: '', text: text.replace(/#$/, '') };
}

function toWhatwg(g: GoUrl, input: string): URL {
  let u: URL;
  const hp = splitHostPort(g.host);
  try {
    // Go keeps `http://:2380` (an empty host dials the local machine); WHATWG cannot hold it.
    // The URL object names localhost; urlToString and the bind/advertise checks see the Go text.
    u = new URL(hp?.host === '' ? `${g.scheme}://localhost:${hp.port}` : g.text);
  } catch {
    throw new Error(`URL address does not have the form "host:port": ${input}`);
  }
  goText.set(u, g.text);
  return u;
}

/** etcd's types.NewURLs: every element a http/https/unix/unixs URL with host:port and no path; sorted. */
export function parseUrlList(items: readonly string[]): URL[] {
  if (items.length === 0) throw new Error('no valid URLs given');
  const out: URL[] = [];
  for (const item of items) {
    const input = item.trim();
    const g = goParseUrl(input);
    if (!['http', 'https', 'unix', 'unixs'].includes(g.scheme)) {
      throw new Error(`URL scheme must be http, https, unix, or unixs: ${input}`);
    }
    if (splitHostPort(g.host) === undefined) {
      throw new Error(`URL address does not have the form "host:port": ${input}`);
    }
    if (g.path !== '') throw new Error(`URL must not contain a path: ${input}`);
    out.push(toWhatwg(g, input));
  }
  return out.sort((a, b) => (urlToString(a) < urlToString(b) ? -1 : urlToString(a) > urlToString(b) ? 1 : 0));
}

function hostOf(u: URL): string {
  const text = urlToString(u);
  const afterScheme = text.slice(text.indexOf('//') + 2);
  const authority = afterScheme.split(/[/?#]/)[0] ?? '';
  return authority.slice(authority.lastIndexOf('@') + 1);
}

/** embed.checkBindURLs: a listen URL must name an IP address or `localhost`. */
export function checkBindUrls(urls: readonly URL[]): string | undefined {
  for (const u of urls) {
    if (u.protocol === 'unix:' || u.protocol === 'unixs:') continue;
    const hp = splitHostPort(hostOf(u));
    if (hp === undefined) return `address ${hostOf(u)}: missing port in address`;
    if (hp.host === 'localhost') continue;
    if (isIP(hp.host) === 0) return `expected IP in URL for binding (${urlToString(u)})`;
  }
  return undefined;
}

/** embed.checkHostURLs: an advertised URL must name a host. */
export function checkHostUrls(urls: readonly URL[]): string | undefined {
  for (const u of urls) {
    const hp = splitHostPort(hostOf(u));
    if (hp === undefined) return `address ${hostOf(u)}: missing port in address`;
    if (hp.host === '') return `unexpected empty host (${urlToString(u)})`;
  }
  return undefined;
}

export interface ClusterMember {
  name: string;
  peerUrls: URL[];
}

/** types.NewURLsMap: `name=url,name=url2,other=url3`; a name may repeat to give several URLs. */
export function parseInitialCluster(s: string): ClusterMember[] {
  const byName = new Map<string, string[]>();
  for (const part of s.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq >= 0 ? part.slice(0, eq) : part;
    const value = eq >= 0 ? part.slice(eq + 1) : '';
    const list = byName.get(name) ?? [];
    list.push(value);
    byName.set(name, list);
  }
  return [...byName].map(([name, urls]) => ({ name, peerUrls: parseUrlList(urls) }));
}

/** types.URLsMap.String(): sorted `name=url` pairs. */
export function clusterToString(members: readonly ClusterMember[]): string {
  const pairs = members.flatMap((m) => m.peerUrls.map((u) => `${m.name}=${urlToString(u)}`));
  return pairs.sort().join(',');
}

/** etcdserver.ServerConfig.VerifyBootstrap / VerifyJoinExisting, without DNS resolution. */
export function verifyClusterMembership(
  name: string,
  advertisePeerUrls: readonly URL[],
  members: readonly ClusterMember[],
  bootstrapping: boolean,
): string | undefined {
  const local = members.find((m) => m.name === name);
  if (local === undefined)
    return `couldn't find local name ${goQuote(name)} in the initial cluster configuration`;
  if (bootstrapping) {
    const mismatch = advertiseMismatch(name, advertisePeerUrls, local.peerUrls);
    if (mismatch !== undefined) return mismatch;
  }
  const all = members.flatMap((m) => m.peerUrls.map(urlToString));
  if (new Set(all).size !== all.length)
    return `initial cluster ${clusterToString(members)} has duplicate url`;
  return undefined;
}

function advertiseMismatch(
  name: string,
  advertised: readonly URL[],
  listed: readonly URL[],
): string | undefined {
  const ap = advertised.map(urlToString).sort();
  const init = listed.map(urlToString).sort();
  let why: string;
  if (ap.length !== init.length) why = `len(${goQuoteList(ap)}) != len(${goQuoteList(init)})`;
  else {
    const i = ap.findIndex((a, k) => a !== init[k]);
    if (i < 0) return undefined;
    why = `resolved urls: ${goQuote(ap[i] ?? '')} != ${goQuote(init[i] ?? '')}`;
  }
  const missing = [...new Set(init)].filter((u) => !ap.includes(u));
  if (missing.length > 0) {
    const m = missing.map((u) => `${name}=${u}`).join(',');
    return `--initial-cluster has ${m} but missing from --initial-advertise-peer-urls=${ap.join(',')} (${why})`;
  }
  const self = clusterToString([{ name, peerUrls: [...advertised] }]);
  const extra = [...new Set(ap)].filter((u) => !init.includes(u));
  if (extra.length > 0)
    return `--initial-advertise-peer-urls has ${extra.join(',')} but missing from --initial-cluster=${self}`;
  return `failed to resolve ${ap.join(',')} to match --initial-cluster=${self} (${why})`;
}
