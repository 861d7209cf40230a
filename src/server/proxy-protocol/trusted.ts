// trusted_proxies as a lookup: node:net's BlockList (IPv4-mapped IPv6 peers match IPv4 networks).
import { BlockList, isIPv4 } from 'node:net';

export class TrustedNetworks {
  private readonly list = new BlockList();

  /** `cidrs` as checked by config/proxy-schema.ts: `10.0.0.0/8`, `::1/128`, or one address. */
  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const [address = '', bits] = cidr.split('/');
      const family = isIPv4(address) ? 'ipv4' : 'ipv6';
      this.list.addSubnet(address, bits === undefined ? (family === 'ipv4' ? 32 : 128) : Number(bits), family);
    }
  }

  has(address: string | undefined): boolean {
    if (address === undefined) return false;
    try {
      return this.list.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
    } catch {
      return false; // not an address at all
    }
  }
}
