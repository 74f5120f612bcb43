/**
 * Turns the browser's getUserMedia / getDisplayMedia failures into sentences a person can act on.
 */

/** Why the camera could not be opened. */
export function cameraError(error: unknown): string {
  return describe(error, 'camera');
}

/** Why the microphone could not be opened. */
export function micError(error: unknown): string {
  return describe(error, 'microphone');
}

function describe(error: unknown, device: 'camera' | 'microphone'): string {
  if (!window.isSecureContext || !navigator.mediaDevices) {
    return `The browser allows the ${device} only on a secure page: open this server with https:// (or on this computer at http://localhost).`;
  }
  const name = error instanceof DOMException ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return `Access to the ${device} was refused. Allow it in the browser's site settings (the icon left of the address), then try again.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `No ${device} was found. Plug one in, or pick another in Devices.`;
    case 'NotReadableError':
    case 'AbortError':
      return `The ${device} is busy or failed: close other apps that use it and try again.`;
    default:
      return `The ${device} could not be opened: ${error instanceof Error ? error.message : String(error)}`;
  }
}
