/**
 * The meeting's controls: microphone and camera toggles (with clear permission errors), screen sharing,
 * gallery/speaker view, device pickers, the panel toggle, leave, and the M / V keyboard shortcuts.
 */
import type { WebConfig } from './api.js';
import { byId } from './dom.js';
import { setIcon, type IconName } from './icons.js';
import type { AudioEngine } from './media/audio.js';
import { Camera } from './media/camera.js';
import { MicPublisher } from './media/mic-publisher.js';
import { ScreenCapture } from './media/screen-capture.js';
import type { Meeting } from './meeting.js';

const CAMERA_KEY = 'confab.camera';
const MIC_KEY = 'confab.mic';

/** How a toggle button looks off and on: its icon and its visible state text. Its accessible name never changes. */
interface ToggleLooks {
  off: { icon: IconName; text: string };
  on: { icon: IconName; text: string };
}

const MIC_LOOKS: ToggleLooks = { off: { icon: 'mic-off', text: 'Off' }, on: { icon: 'mic', text: 'On' } };
const CAMERA_LOOKS: ToggleLooks = { off: { icon: 'camera-off', text: 'Off' }, on: { icon: 'camera', text: 'On' } };
const SCREEN_LOOKS: ToggleLooks = { off: { icon: 'screen', text: '' }, on: { icon: 'screen-share', text: 'On' } };

/** The control bar of one meeting. */
export class Controls {
  readonly #meeting: Meeting;
  readonly #config: WebConfig;
  readonly #audio: AudioEngine;
  readonly #changed: () => void;
  readonly #signal: AbortSignal;
  readonly #mic = byId<HTMLButtonElement>('mic-toggle');
  readonly #camera = byId<HTMLButtonElement>('camera-toggle');
  readonly #screen = byId<HTMLButtonElement>('screen-toggle');
  readonly #error = byId('media-error');
  #cameraDevice: Camera | undefined;
  #capture: ScreenCapture | undefined;
  #micPublisher: MicPublisher | undefined;

  constructor(meeting: Meeting, config: WebConfig, audio: AudioEngine, changed: () => void, signal: AbortSignal) {
    this.#meeting = meeting;
    this.#config = config;
    this.#audio = audio;
    this.#changed = changed;
    this.#signal = signal;
    const on = (id: string, listener: () => void) => byId(id).addEventListener('click', listener, { signal });
    on('mic-toggle', () => void this.#toggleMic());
    on('camera-toggle', () => void this.#toggleCamera());
    on('screen-toggle', () => void this.#toggleScreen());
    on('view-toggle', () => this.#toggleView());
    on('settings-toggle', () => void this.#toggleSettings());
    on('panel-toggle', () => this.#togglePanel());
    on('leave', () => void meeting.leave());
    byId('mic-select').addEventListener('change', () => this.#deviceChanged('mic'), { signal });
    byId('camera-select').addEventListener('change', () => this.#deviceChanged('camera'), { signal });
    document.addEventListener('keydown', (event) => {
      const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement || event.target instanceof HTMLTextAreaElement;
      if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === 'm' || event.key === 'M') void this.#toggleMic();
      if (event.key === 'v' || event.key === 'V') void this.#toggleCamera();
    }, { signal });
    navigator.mediaDevices?.addEventListener('devicechange', () => void this.#listDevices(), { signal });
  }

  /** Whether the microphone is on and unmuted. */
  get micOn(): boolean {
    return this.#audio.micOn && !this.#meeting.audio.muted;
  }

  /** Whether the camera is on. */
  get cameraOn(): boolean {
    return this.#cameraDevice !== undefined;
  }

  /** Enables the controls whose plugin the server has (by channel name). */
  enable(channels: ReadonlySet<string>): void {
    const missing = (button: HTMLButtonElement, channel: string, what: string) => {
      button.disabled = !channels.has(channel);
      button.title = button.disabled ? `This server has no ${what} plugin` : button.title;
    };
    missing(this.#mic, 'audio', 'audio');
    missing(this.#camera, 'video', 'video');
    missing(this.#screen, 'screen', 'screen-sharing');
    this.#setPressed(this.#mic, false, MIC_LOOKS);
    this.#setPressed(this.#camera, false, CAMERA_LOOKS);
    this.#setPressed(this.#screen, false, SCREEN_LOOKS);
  }

  /** The share ended (by the server, or this client's capture stopped). */
  screenStopped(): void {
    this.#capture?.stop();
    this.#capture = undefined;
    this.#setPressed(this.#screen, false, SCREEN_LOOKS);
  }

  /** Releases camera, microphone and screen. */
  stopAll(): void {
    this.#cameraDevice?.stop();
    this.#cameraDevice = undefined;
    this.#stopMic();
    this.#capture?.stop();
    this.#capture = undefined;
    byId('settings').hidden = true;
  }

  async #toggleMic(): Promise<void> {
    if (this.#mic.disabled) return;
    const audio = this.#meeting.audio;
    if (this.micOn) {
      audio.setMuted(true);
      this.#stopMic();
      this.#meeting.setOwnLevel(-100);
    } else {
      this.#showError('');
      this.#mic.disabled = true;
      try {
        const publisher = new MicPublisher(audio, this.#meeting.support.opusEncoder, this.#config.media.audio.bitrate);
        try {
          await this.#audio.startMic(localStorage.getItem(MIC_KEY) ?? undefined, (frame, rms) => {
            publisher.send(frame, performance.timeOrigin + performance.now());
            this.#meeting.setOwnLevel(rms > 0 ? 20 * Math.log10(rms) : -100);
          });
        } catch (error) {
          publisher.close();
          throw error;
        }
        this.#micPublisher = publisher;
        audio.setMuted(false);
      } catch (error) {
        this.#showError((error as Error).message);
      } finally {
        this.#mic.disabled = false;
      }
    }
    this.#setPressed(this.#mic, this.micOn, MIC_LOOKS);
    this.#changed();
  }

  async #toggleCamera(): Promise<void> {
    if (this.#camera.disabled) return;
    const video = this.#meeting.video;
    const selfId = this.#meeting.client.self?.id ?? '';
    if (this.#cameraDevice) {
      this.#cameraDevice.stop();
      this.#cameraDevice = undefined;
      video.setCamera(false);
      this.#meeting.grid.showLocalVideo(selfId, undefined);
    } else {
      this.#showError('');
      this.#camera.disabled = true;
      try {
        const settings = { ...this.#config.video, ...this.#config.media.video, vp8: this.#meeting.support.vp8Encoder };
        this.#cameraDevice = await Camera.open(localStorage.getItem(CAMERA_KEY) ?? undefined, settings, video);
        video.setCamera(true);
        this.#meeting.grid.showLocalVideo(selfId, this.#cameraDevice.preview);
      } catch (error) {
        this.#showError((error as Error).message);
      } finally {
        this.#camera.disabled = false;
      }
    }
    this.#setPressed(this.#camera, this.cameraOn, CAMERA_LOOKS);
    this.#changed();
  }

  async #toggleScreen(): Promise<void> {
    const screen = this.#meeting.screen;
    if (this.#capture) {
      screen.stop();
      this.screenStopped();
      return;
    }
    this.#showError('');
    try {
      const settings = { ...this.#config.media.screen, vp8: this.#meeting.support.vp8Encoder };
      const capture = await ScreenCapture.start(settings, screen, (picture) => this.#meeting.showOwnScreenPicture(picture), () => {
        screen.stop();
        this.screenStopped();
      });
      try {
        await screen.start();
      } catch (error) {
        capture.stop();
        throw error;
      }
      this.#capture = capture;
      this.#setPressed(this.#screen, true, SCREEN_LOOKS);
    } catch (error) {
      const code = (error as { code?: string }).code;
      this.#showError(code === 'SCREEN_BUSY' ? 'Someone else is presenting: wait until they stop.' : (error as Error).message);
    }
  }

  #toggleView(): void {
    const grid = this.#meeting.grid;
    grid.setView(grid.view === 'gallery' ? 'speaker' : 'gallery');
    // The button offers the other view.
    const button = byId('view-toggle');
    button.querySelector('.label')!.textContent = grid.view === 'gallery' ? 'Speaker view' : 'Gallery view';
    setIcon(button, grid.view === 'gallery' ? 'speaker' : 'gallery');
  }

  async #toggleSettings(): Promise<void> {
    const settings = byId('settings');
    settings.hidden = !settings.hidden;
    byId('settings-toggle').setAttribute('aria-expanded', String(!settings.hidden));
    if (!settings.hidden) {
      await this.#listDevices();
      byId('camera-select').focus();
    }
  }

  #togglePanel(): void {
    const panel = byId('panel');
    panel.hidden = !panel.hidden;
    byId('panel-toggle').setAttribute('aria-expanded', String(!panel.hidden));
  }

  async #listDevices(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices || this.#signal.aborted) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select: HTMLSelectElement, kind: MediaDeviceKind, key: string, noun: string) => {
      const matching = devices.filter((device) => device.kind === kind);
      select.replaceChildren(new Option(`Default ${noun}`, ''), ...matching.map((device, index) => new Option(device.label || `${noun} ${index + 1}`, device.deviceId)));
      select.value = localStorage.getItem(key) ?? '';
    };
    fill(byId('camera-select'), 'videoinput', CAMERA_KEY, 'camera');
    fill(byId('mic-select'), 'audioinput', MIC_KEY, 'microphone');
  }

  /** A device was picked: remember it, and switch to it now if that device is on. */
  async #deviceChanged(kind: 'mic' | 'camera'): Promise<void> {
    const select = byId<HTMLSelectElement>(kind === 'mic' ? 'mic-select' : 'camera-select');
    const key = kind === 'mic' ? MIC_KEY : CAMERA_KEY;
    if (select.value) localStorage.setItem(key, select.value);
    else localStorage.removeItem(key);
    if (kind === 'mic' && this.micOn) {
      await this.#toggleMic();
      await this.#toggleMic();
    } else if (kind === 'camera' && this.cameraOn) {
      await this.#toggleCamera();
      await this.#toggleCamera();
    }
  }

  /** Shows a toggle's state: `aria-pressed` for assistive technology, the icon and the state text for the eye. */
  #setPressed(button: HTMLButtonElement, pressed: boolean, looks: ToggleLooks): void {
    const look = pressed ? looks.on : looks.off;
    button.setAttribute('aria-pressed', String(pressed));
    setIcon(button, look.icon);
    button.querySelector('.state')!.textContent = look.text;
  }

  /** Closes the microphone and its encoder. */
  #stopMic(): void {
    this.#audio.stopMic();
    this.#micPublisher?.close();
    this.#micPublisher = undefined;
  }

  #showError(message: string): void {
    this.#error.textContent = message;
    this.#error.hidden = message === '';
  }
}
