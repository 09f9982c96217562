/**
 * One configured camera: where its picture is (by protocol) and how to fetch it. An ONVIF
 * camera's snapshot URL is asked once and kept; any failure forgets it, so a camera that was
 * replaced or reconfigured is asked again on the next try.
 */
import type { CameraConfig } from '../config/schema-cameras.js';
import { onvifSnapshotUri } from './onvif.js';
import { DigestSession, pictureOf, type Credentials, type Picture } from './snapshot.js';

/** The picture path of each HTTP protocol for a channel. */
export function snapshotUrl(config: Pick<CameraConfig, 'protocol' | 'url' | 'channel'>): URL {
  const base = config.url.replace(/\/$/, '');
  switch (config.protocol) {
    case 'hikvision':
      return new URL(`${base}/ISAPI/Streaming/channels/${config.channel}01/picture`);
    case 'dahua':
      return new URL(`${base}/cgi-bin/snapshot.cgi?channel=${config.channel}`);
    case 'onvif':
      throw new Error('an ONVIF camera names its snapshot URL itself (GetSnapshotUri)');
  }
}

export class CameraClient {
  private readonly session: DigestSession;
  private onvifUrl: URL | undefined;

  constructor(
    readonly id: string,
    readonly config: CameraConfig,
    private readonly credentials: Credentials,
    private readonly now: () => number,
  ) {
    this.session = new DigestSession(id, credentials);
  }

  async take(): Promise<Picture> {
    const limits = { timeoutMs: this.config.timeoutMs, maxBytes: this.config.maxBytes };
    try {
      const url = await this.pictureUrl();
      return pictureOf(this.id, url, await this.session.get(url, limits));
    } catch (e) {
      this.onvifUrl = undefined;
      throw e;
    }
  }

  private async pictureUrl(): Promise<URL> {
    if (this.config.protocol !== 'onvif') return snapshotUrl(this.config);
    this.onvifUrl ??= await onvifSnapshotUri({
      camera: this.id,
      deviceUrl: new URL(this.config.url.replace(/\/$/, '') + this.config.onvifPath),
      credentials: this.credentials,
      ...(this.config.profileToken === undefined ? {} : { profileToken: this.config.profileToken }),
      timeoutMs: this.config.timeoutMs,
      maxBytes: 256 * 1024,
      now: this.now,
    });
    return this.onvifUrl;
  }
}
