/**
 * Finding a camera's snapshot URL through ONVIF: GetCapabilities on the device service names the
 * media service, GetProfiles gives the first profile (or the configured one), GetSnapshotUri its
 * picture URL. SOAP 1.2 over HTTP, written by hand (three small requests; an ONVIF library would
 * pull in a WSDL stack), with a WS-Security UsernameToken: PasswordDigest =
 * Base64(SHA-1(nonce + created + password)) from Node's crypto. The answers are read by element
 * local name, so any namespace prefix the camera uses is fine.
 */
import { createHash, randomBytes } from 'node:crypto';
import { LantianError } from '../core/errors.js';
import { httpExchange, safeUrl, type HttpAnswer } from './http.js';
import type { Credentials, Limits } from './snapshot.js';

const NS = {
  env: 'http://www.w3.org/2003/05/soap-envelope',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
};
const TOKEN_PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';

const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const unescapeXml = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/** The UsernameToken header for `created` (ISO time) and a fresh nonce. */
export function usernameToken(c: Credentials, created: string, nonce = randomBytes(16)): string {
  const digest = createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created + c.password, 'utf8')]))
    .digest('base64');
  return (
    `<wsse:Security env:mustUnderstand="1" xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}"><wsse:UsernameToken>` +
    `<wsse:Username>${escapeXml(c.username)}</wsse:Username>` +
    `<wsse:Password Type="${TOKEN_PROFILE}#PasswordDigest">${digest}</wsse:Password>` +
    `<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}

/** Text of every element with this local name, whatever its prefix, in document order. */
export function elementTexts(xml: string, local: string): string[] {
  const re = new RegExp(`<(?:[\\w.-]+:)?${local}(?:\\s[^>]*)?>([^<]*)</(?:[\\w.-]+:)?${local}>`, 'g');
  return [...xml.matchAll(re)].map((m) => unescapeXml(m[1]!.trim()));
}

function attributeOf(xml: string, local: string, attr: string): string | undefined {
  const m = new RegExp(`<(?:[\\w.-]+:)?${local}\\s[^>]*?\\b${attr}="([^"]*)"`).exec(xml);
  return m ? unescapeXml(m[1]!) : undefined;
}

export interface OnvifOptions extends Limits {
  camera: string;
  /** The device service, e.g. http://camera/onvif/device_service. */
  deviceUrl: URL;
  credentials: Credentials;
  /** A profile token to use; default the first profile the camera lists. */
  profileToken?: string;
  now: () => number;
}

async function call(o: OnvifOptions, url: URL, ns: 'tds' | 'trt', body: string): Promise<string> {
  const created = new Date(o.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="${NS.env}" xmlns:${ns}="${NS[ns]}">` +
    `<env:Header>${usernameToken(o.credentials, created)}</env:Header><env:Body>${body}</env:Body></env:Envelope>`;
  const answer: HttpAnswer = await httpExchange({
    camera: o.camera,
    method: 'POST',
    url,
    headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
    body: xml,
    timeoutMs: o.timeoutMs,
    maxBytes: o.maxBytes,
  });
  const text = answer.body.toString('utf8');
  const fault = /<(?:[\w.-]+:)?Fault[\s>]/.test(text);
  if (answer.status >= 200 && answer.status < 300 && !fault) return text;
  const subcodes = elementTexts(text, 'Value');
  const reason = elementTexts(text, 'Text')[0] ?? `HTTP ${answer.status}`;
  const context = { camera: o.camera, url: safeUrl(url), status: answer.status, fault: subcodes };
  if (answer.status === 401 || subcodes.some((s) => /NotAuthorized$/.test(s))) {
    throw new LantianError(
      'CAMERA_AUTH',
      `camera ${o.camera}: the ONVIF service at ${context.url} refused user "${o.credentials.username}" (${reason}): ` +
        'wrong password or user name, or the camera clock is far from the gateway clock',
      { context },
    );
  }
  throw new LantianError(
    'CAMERA_ONVIF',
    `camera ${o.camera}: the ONVIF service at ${context.url} answered ${fault ? `a fault: ${reason}` : `HTTP ${answer.status}`}`,
    { context },
  );
}

/** The camera's snapshot URL, asked through ONVIF. */
export async function onvifSnapshotUri(o: OnvifOptions): Promise<URL> {
  const caps = await call(
    o,
    o.deviceUrl,
    'tds',
    '<tds:GetCapabilities><tds:Category>Media</tds:Category></tds:GetCapabilities>',
  );
  const media = elementTexts(caps, 'XAddr').find((x) => /media/i.test(x)) ?? o.deviceUrl.href;
  const mediaUrl = new URL(media);
  let token = o.profileToken;
  if (token === undefined) {
    const profiles = await call(o, mediaUrl, 'trt', '<trt:GetProfiles/>');
    token = attributeOf(profiles, 'Profiles', 'token');
    if (token === undefined)
      throw new LantianError('CAMERA_ONVIF', `camera ${o.camera}: the ONVIF media service lists no profile`, {
        context: { camera: o.camera, url: safeUrl(mediaUrl) },
      });
  }
  const answer = await call(
    o,
    mediaUrl,
    'trt',
    `<trt:GetSnapshotUri><trt:ProfileToken>${escapeXml(token)}</trt:ProfileToken></trt:GetSnapshotUri>`,
  );
  const uri = elementTexts(answer, 'Uri')[0];
  try {
    if (uri === undefined) throw new Error('no Uri element');
    return new URL(uri);
  } catch (e) {
    throw new LantianError(
      'CAMERA_ONVIF',
      `camera ${o.camera}: GetSnapshotUri gave no usable URL (${uri ?? 'none'})`,
      {
        cause: e,
        context: { camera: o.camera, url: safeUrl(mediaUrl), profileToken: token },
      },
    );
  }
}
