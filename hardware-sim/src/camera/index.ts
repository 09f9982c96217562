export * from './server.js';
export { FrameSource, framePixels, DEFAULT_FRAMES, type FrameOptions } from './frames.js';
export { DigestGuard, parseDigestParams, type DigestAlgorithm } from './digest.js';
export { UsernameTokenGuard, answerOnvif, elementText, operationOf } from './onvif.js';
