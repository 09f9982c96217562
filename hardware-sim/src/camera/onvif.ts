/**
 * The ONVIF part of a simulated camera: SOAP 1.2 over HTTP on /onvif/device_service and
 * /onvif/media_service, answering GetCapabilities, GetProfiles and GetSnapshotUri, with a
 * WS-Security UsernameToken checked as ONVIF cameras check it (PasswordDigest =
 * Base64(SHA-1(nonce + created + password)), created within five minutes, each nonce once).
 * Only what a snapshot needs is answered; any other action gets a SOAP fault.
 */
import { createHash } from 'node:crypto';

const ENV = 'http://www.w3.org/2003/05/soap-envelope';
const TOKEN_SKEW_MS = 5 * 60_000;

/** The text of the first element with this local name, whatever its prefix. */
export function elementText(xml: string, local: string): string | undefined {
  const m = new RegExp(
    `<(?:[A-Za-z0-9_.-]+:)?${local}(?:\\s[^>]*)?>([^<]*)</(?:[A-Za-z0-9_.-]+:)?${local}>`,
  ).exec(xml);
  return m?.[1]?.trim();
}

/** The attribute value of the first element with this local name. */
function attribute(xml: string, local: string, attr: string): string | undefined {
  const m = new RegExp(`<(?:[A-Za-z0-9_.-]+:)?${local}\\s[^>]*\\b${attr}="([^"]*)"`).exec(xml);
  return m?.[1];
}

/** The operation the body asks for: the local name of the first element inside Body. */
export function operationOf(xml: string): string | undefined {
  const body = /<(?:[A-Za-z0-9_.-]+:)?Body(?:\s[^>]*)?>\s*<(?:[A-Za-z0-9_.-]+:)?([A-Za-z]+)/.exec(xml);
  return body?.[1];
}

export type TokenVerdict = 'ok' | 'missing' | 'wrong';

export class UsernameTokenGuard {
  private readonly used = new Map<string, number>();

  constructor(
    private readonly credentials: () => { username: string; password: string },
    private readonly now: () => number,
  ) {}

  check(xml: string): TokenVerdict {
    const username = elementText(xml, 'Username');
    const digest = elementText(xml, 'Password');
    const nonce = elementText(xml, 'Nonce');
    const created = elementText(xml, 'Created');
    if (username === undefined || digest === undefined || nonce === undefined || created === undefined)
      return 'missing';
    if (!(attribute(xml, 'Password', 'Type') ?? '').endsWith('#PasswordDigest')) return 'wrong';
    const c = this.credentials();
    const expected = createHash('sha1')
      .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created + c.password, 'utf8')]))
      .digest('base64');
    if (username !== c.username || digest !== expected) return 'wrong';
    const t = this.now();
    const at = Date.parse(created);
    if (!Number.isFinite(at) || Math.abs(t - at) > TOKEN_SKEW_MS) return 'wrong';
    if (this.used.has(nonce)) return 'wrong';
    this.used.set(nonce, t);
    for (const [n, when] of this.used) if (t - when > 2 * TOKEN_SKEW_MS) this.used.delete(n);
    return 'ok';
  }
}

const envelope = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="${ENV}" ` +
  'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" ' +
  'xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:ter="http://www.onvif.org/ver10/error">' +
  `<env:Body>${body}</env:Body></env:Envelope>`;

export function soapFault(code: 'Sender' | 'Receiver', subcode: string, reason: string): string {
  return envelope(
    `<env:Fault><env:Code><env:Value>env:${code}</env:Value><env:Subcode><env:Value>${subcode}</env:Value>` +
      `</env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">${reason}</env:Text></env:Reason></env:Fault>`,
  );
}

export interface OnvifAnswer {
  status: number;
  body: string;
}

/** Answers one SOAP request; `base` is http://host:port of this camera, `snapshotPath` its picture. */
export function answerOnvif(
  xml: string,
  guard: UsernameTokenGuard,
  base: string,
  snapshotPath: string,
): OnvifAnswer {
  const verdict = guard.check(xml);
  if (verdict !== 'ok')
    return { status: 400, body: soapFault('Sender', 'ter:NotAuthorized', 'Sender not Authorized') };
  switch (operationOf(xml) ?? '') {
    case 'GetCapabilities':
      return {
        status: 200,
        body: envelope(
          '<tds:GetCapabilitiesResponse><tds:Capabilities>' +
            `<tt:Device><tt:XAddr>${base}/onvif/device_service</tt:XAddr></tt:Device>` +
            `<tt:Media><tt:XAddr>${base}/onvif/media_service</tt:XAddr></tt:Media>` +
            '</tds:Capabilities></tds:GetCapabilitiesResponse>',
        ),
      };
    case 'GetProfiles':
      return {
        status: 200,
        body: envelope(
          '<trt:GetProfilesResponse><trt:Profiles token="Profile_1" fixed="true"><tt:Name>mainStream</tt:Name>' +
            '</trt:Profiles><trt:Profiles token="Profile_2" fixed="true"><tt:Name>subStream</tt:Name></trt:Profiles>' +
            '</trt:GetProfilesResponse>',
        ),
      };
    case 'GetSnapshotUri': {
      const token = elementText(xml, 'ProfileToken');
      if (token !== 'Profile_1' && token !== 'Profile_2')
        return { status: 400, body: soapFault('Sender', 'ter:InvalidArgVal', 'No such profile') };
      return {
        status: 200,
        body: envelope(
          `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>${base}${snapshotPath.replace(/&/g, '&amp;')}</tt:Uri>` +
            '<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>' +
            '<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetSnapshotUriResponse>',
        ),
      };
    }
    default:
      return { status: 400, body: soapFault('Sender', 'ter:ActionNotSupported', 'Action not supported') };
  }
}
