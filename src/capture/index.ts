export { BACKENDS, captureScriptPath, packageRoot, scriptsDir, type Backend } from './scripts.js';
export {
  captureScriptArgs,
  readBundleMeta,
  startCapture,
  validateCaptureOptions,
  type CaptureHandle,
  type CaptureMeta,
  type CaptureOptions,
  type CaptureResult,
} from './supervise.js';
