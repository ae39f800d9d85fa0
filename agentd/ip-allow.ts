// The client-address allowlist (http.allow): checked on every request before anything else.
import { BlockList, isIP } from 'node:net';

export class AllowList {
  private readonly list = new BlockList();
  readonly entries: string[];

  /** `cidrs`: `10.0.0.0/8`, `::1/128`, or a bare address (one host). Throws on a bad entry. */
  constructor(cidrs: string[]) {
    this.entries = cidrs;
    for (const raw of cidrs) {
      const [addr, prefixText, extra] = raw.trim().split('/');
      const family = isIP(addr);
      if (family === 0 || extra !== undefined) throw new Error(`http.allow: "${raw}" is not an IP address or CIDR`);
      const max = family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (!/^\d+$/.test(prefixText ?? String(max)) || prefix > max) throw new Error(`http.allow: "${raw}" has a bad prefix length`);
      this.list.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  allows(address: string | undefined): boolean {
    if (!address) return false;
    // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; match them against IPv4 rules.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const addr = mapped ? mapped[1] : address;
    const family = isIP(addr);
    if (family === 0) return false;
    return this.list.check(addr, family === 4 ? 'ipv4' : 'ipv6');
  }
}
