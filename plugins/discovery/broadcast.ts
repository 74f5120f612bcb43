/**
 * Where beacons go: the IPv4 broadcast addresses of the interfaces the server is bound to, and nowhere
 * else. Bound to 127.0.0.1 (the default) that is the loopback broadcast 127.255.255.255 alone; bound to
 * 0.0.0.0, every IPv4 interface's broadcast address, computed from its address and netmask.
 */
import type { NetworkInterfaceInfo } from 'node:os';

/** The loopback broadcast address: Linux delivers it to every socket bound to the port on this machine. */
export const LOOPBACK_BROADCAST = '127.255.255.255';

/** Interfaces as `os.networkInterfaces()` returns them. */
export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

/** Where to send beacons for a server bound to `host`, and the local address to send them from. */
export interface BeaconTargets {
  /** The address the beacon socket binds (so beacons come from the address clients can reach). */
  bindAddress: string;
  /** Broadcast addresses, without duplicates; empty when the host has none (an IPv6-only address). */
  addresses: string[];
}

/**
 * The broadcast addresses of the interfaces a server bound to `host` listens on.
 *
 * @example
 *   beaconTargets('127.0.0.1', os.networkInterfaces()) // { bindAddress: '127.0.0.1', addresses: ['127.255.255.255'] }
 *   beaconTargets('0.0.0.0', os.networkInterfaces())   // { bindAddress: '0.0.0.0', addresses: ['127.255.255.255', '192.168.1.255'] }
 */
export function beaconTargets(host: string, interfaces: Interfaces): BeaconTargets {
  const ipv4 = Object.values(interfaces).flatMap((list) => list ?? []).filter((entry) => entry.family === 'IPv4');
  if (host === '0.0.0.0' || host === '::') {
    return { bindAddress: '0.0.0.0', addresses: unique(ipv4.map(broadcastOf).filter((address) => address !== undefined)) };
  }
  if (host === 'localhost' || host.startsWith('127.')) {
    return { bindAddress: host === 'localhost' ? '127.0.0.1' : host, addresses: [LOOPBACK_BROADCAST] };
  }
  const entry = ipv4.find((candidate) => candidate.address === host);
  const broadcast = entry && broadcastOf(entry);
  return { bindAddress: host, addresses: broadcast ? [broadcast] : [] };
}

/**
 * The broadcast address of an IPv4 interface (the address with every host bit set), or undefined for a
 * /31 or /32 network, which has none.
 *
 * @example
 *   ipv4Broadcast('192.168.1.20', '255.255.255.0') === '192.168.1.255'
 */
export function ipv4Broadcast(address: string, netmask: string): string | undefined {
  const ip = toNumber(address);
  const mask = toNumber(netmask);
  if (ip === undefined || mask === undefined || (~mask >>> 0) < 3) return undefined;
  const broadcast = (ip | ~mask) >>> 0;
  return [24, 16, 8, 0].map((shift) => (broadcast >>> shift) & 0xff).join('.');
}

function broadcastOf(entry: NetworkInterfaceInfo): string | undefined {
  return ipv4Broadcast(entry.address, entry.netmask);
}

function toNumber(dotted: string): number | undefined {
  const parts = dotted.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) return undefined;
  return parts.reduce((value, part) => ((value << 8) | Number(part)) >>> 0, 0);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
