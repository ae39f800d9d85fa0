// Address allow lists ("10.0.0.0/8", "127.0.0.1", "::1/128") on node:net's BlockList, so a bad
// entry is refused where the list is configured and a check costs no parsing per request.
import { BlockList, isIP } from 'node:net';

export class AllowList {
  private constructor(private readonly list: BlockList) {}

  /** Throws naming the first entry that is not an IP address or CIDR. */
  static parse(entries: readonly string[], option: string): AllowList {
    const list = new BlockList();
    for (const entry of entries) {
      const [address, prefix, ...rest] = String(entry).trim().split('/');
      const family = isIP(address ?? '');
      const bits = family === 4 ? 32 : 128;
      const length = prefix === undefined ? bits : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
      if (family === 0 || rest.length > 0 || !(length >= 0 && length <= bits)) {
        throw new Error(`${option}: "${entry}" is not an IP address or CIDR (e.g. 10.0.0.0/8, 127.0.0.1, ::1/128)`);
      }
      list.addSubnet(address!, length, family === 4 ? 'ipv4' : 'ipv6');
    }
    return new AllowList(list);
  }

  /** An IPv4 peer seen on a dual-stack socket (::ffff:a.b.c.d) is checked as IPv4. */
  allows(address: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const ip = mapped ?? address;
    const family = isIP(ip);
    if (family === 0) return false;
    return this.list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}

export const LOOPBACK = ['127.0.0.0/8', '::1/128'];
