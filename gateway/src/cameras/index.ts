/** Site cameras (docs/cameras.md): snapshots over HTTP digest and ONVIF, stored as blobs in the log. */
export * from './service.js';
export { CameraClient, snapshotUrl } from './camera.js';
export { DigestSession, isJpeg, pictureOf, type Credentials, type Picture } from './snapshot.js';
export { onvifSnapshotUri, usernameToken } from './onvif.js';
export { parseChallenge, digestAuthorization, type DigestChallenge } from './digest.js';
export { registerSnapshotCommand } from './command.js';
