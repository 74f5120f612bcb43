/**
 * The plugin client halves attached to one client: each gets its context (typed channels with requests,
 * handlers, events), and the server's non-fatal errors about a plugin's channels are routed to the plugin
 * that uses them: to the request they refuse (by `ref`), else to its `onError` handlers.
 */
import type { AnyChannelDef } from '../channel-def.js';
import { ConfabError } from '../errors.js';
import type { JsonObject } from '../json.js';
import { Emitter } from './emitter.js';
import { PendingRequests } from './requests.js';
import type { ClientChannel, ClientMessage, ClientPlugin, ClientPluginContext } from './types.js';

/** What the client keeps for each attached plugin: the channels it uses, its requests, its error handlers. */
interface PluginRecord {
  channels: Set<string>;
  requests: PendingRequests;
  errors: Emitter<{ error: [ConfabError] }>;
}

/** The client's side of a plugin context: what every plugin's `send`, `onMessage` and `on` do. */
export type PluginHost = Pick<ClientPluginContext, 'client' | 'send' | 'onMessage' | 'on'>;

/** A client's attached plugins, by name. */
export class ClientPlugins {
  readonly #records = new Map<string, PluginRecord>();

  /**
   * Attaches a plugin and returns its API. Throws PLUGIN_INVALID for a second plugin of the same name;
   * a plugin whose `attach` throws is not kept.
   */
  attach<Api>(plugin: ClientPlugin<Api>, host: PluginHost): Api {
    if (this.#records.has(plugin.name)) {
      const message = `a client plugin named "${plugin.name}" is already attached`;
      throw new ConfabError('PLUGIN_INVALID', message, { fatal: false });
    }
    const record: PluginRecord = { channels: new Set(), requests: new PendingRequests(), errors: new Emitter() };
    const send = (channel: string, message: object | Uint8Array) => {
      record.channels.add(channel);
      return host.send(channel, message);
    };
    const onMessage = (channel: string, handler: (message: ClientMessage) => void) => {
      record.channels.add(channel);
      host.onMessage(channel, handler);
    };
    const resend = () => record.requests.resend(send);
    host.on('reconnecting', () => record.requests.pause());
    host.on('resumed', resend);
    host.on('rejoined', resend);
    host.on('close', ({ error, reason }) => {
      record.requests.rejectAll(error ?? new ConfabError('CONNECTION_CLOSED', `the client closed (${reason}) before the server answered`));
    });
    const ctx: ClientPluginContext = {
      client: host.client,
      channel: (definition) => typedChannel(definition, record, send, onMessage),
      send,
      onMessage,
      onError: (handler) => void record.errors.on('error', handler),
      on: host.on,
    };
    this.#records.set(plugin.name, record);
    try {
      return plugin.attach(ctx);
    } catch (error) {
      this.#records.delete(plugin.name);
      throw error;
    }
  }

  /** Hands a server error that names a channel to the plugins that use that channel. */
  routeError(error: ConfabError): void {
    if (error.channel === undefined) return;
    for (const record of this.#records.values()) {
      if (!record.channels.has(error.channel)) continue;
      if (!record.requests.takeError(error)) record.errors.emit('error', error);
    }
  }
}

/**
 * The typed view of one channel for one plugin. Answers to its requests go to them; the rest to the
 * handlers given to `onMessage` (one router per channel and plugin).
 */
function typedChannel<Request, Message>(
  definition: AnyChannelDef,
  record: PluginRecord,
  send: (channel: string, message: object | Uint8Array) => boolean,
  onMessage: (channel: string, handler: (message: ClientMessage) => void) => void,
): ClientChannel<Message, Request> {
  const name = definition.name;
  const refField = definition.refField ?? 'ref';
  // The server's errors about this channel reach the plugin from now on (to its onError handlers).
  record.channels.add(name);
  const handlers: Array<(message: Message) => void> = [];
  let routing = false;
  const route = () => {
    if (routing) return;
    routing = true;
    onMessage(name, (message) => {
      if (!(message instanceof Uint8Array) && record.requests.takeReply(name, message, refField)) return;
      // The server's messages on this channel are of the type its definition names.
      for (const handler of handlers) handler(message as Message);
    });
  };
  return {
    send: (request) => send(name, request as object),
    onMessage(handler) {
      handlers.push(handler);
      route();
    },
    request(request, options) {
      route();
      return record.requests.request(name, request as object, (message: JsonObject) => send(name, message), options, refField) as Promise<Message>;
    },
  };
}
