// Which agentd versions a hostd works with, declared once (hostd refuses the others). Apart from
// proto/release.ts so that hostd's start-up does not load tweetnacl (about 3 MB of private memory,
// measured) before an update needs it.

/**
 * The same major version, and for 0.x the same minor (semver's caret range, ^MAJOR.MINOR.0). A host
 * bundle always pairs equal versions; this bounds an agentd given by agent.command, or one left
 * running by another hostd.
 */
export function agentCompatibleRange(hostdVersion: string): string {
  const [major, minor] = majorMinor(hostdVersion) ?? [NaN, NaN];
  return major === 0 ? `^0.${minor}.0` : `^${major}.0.0`;
}

export function isAgentCompatible(hostdVersion: string, agentVersion: string): boolean {
  const h = majorMinor(hostdVersion);
  const a = majorMinor(agentVersion);
  if (!h || !a) return false;
  return h[0] === a[0] && (h[0] !== 0 || h[1] === a[1]);
}

function majorMinor(version: string): [number, number] | undefined {
  const m = /^(\d{1,9})\.(\d{1,9})\.\d{1,9}(?:-[0-9A-Za-z.-]+)?$/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
