// Releases: signed host bundles the manager stores and serves to hosts (FetchRelease). The manager
// only verifies: the operator signs on their machine (`opsctl release create`), the signature must
// come from one of releases.trustedKeys, and every host checks it again before installing.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { EntityManager } from '@mikro-orm/core';
import type { Logger } from '../../../lib/log.js';
import { bundleFileName } from '../../../proto/host-bundle.js';
import { ErrorCode, OpsError } from '../../../proto/errors.js';
import { compareVersions, verifyRelease, type ReleaseManifest, type SignedRelease } from '../../../proto/release.js';
import type { ReleaseDetail, ReleaseView } from '../../../proto/rest/releases.js';
import type { Principal } from '../../access/principal.js';
import { contextEm, isUniqueViolation } from '../../db/context.js';
import type { Orm } from '../../db/orm.js';
import type { BundleStore } from './bundle-store.js';
import { Release } from './release.entity.js';

export interface ReleasesOptions {
  trustedKeys: readonly string[];
  maxBundleBytes: number;
}

export function releaseView(r: Release): ReleaseView {
  return {
    version: r.version, component: r.component, platform: r.platform, arch: r.arch, file: r.file, size: Number(r.size), sha256: r.sha256,
    keyId: r.keyId, createdAt: r.createdAt.toISOString(), expiresAt: r.expiresAt.toISOString(), notes: r.notes,
    uploadedAt: r.uploadedAt.toISOString(), uploadedBy: r.uploadedBy,
  };
}

export class ReleasesService {
  constructor(private readonly orm: Orm, private readonly log: Logger, readonly store: BundleStore, private readonly opts: ReleasesOptions) {}

  /**
   * Checks the signed manifest, then streams the bundle into place; refuses before reading a byte
   * what the manifest alone gives away (bad or untrusted signature, expired, too large, a version
   * already stored), and keeps nothing when the bundle does not match.
   */
  async upload(by: Principal, version: string, signed: SignedRelease, body: Readable, contentLength: number | undefined): Promise<ReleaseView> {
    const manifest = verifyRelease(signed, this.opts.trustedKeys);
    if (manifest.version !== version) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `the signed manifest is for version ${manifest.version}, not ${version}`);
    const expected = bundleFileName(manifest.version, manifest.platform, manifest.arch);
    if (manifest.file !== expected) throw new OpsError(ErrorCode.INVALID_ARGUMENT, `release manifest file must be ${expected} for version ${manifest.version} on ${manifest.platform}-${manifest.arch}, not ${manifest.file}`);
    if (Date.parse(manifest.expiresAt) <= Date.now()) throw new OpsError(ErrorCode.RELEASE_EXPIRED, `release ${manifest.version} expired at ${manifest.expiresAt}`);
    if (manifest.size > this.opts.maxBundleBytes) {
      throw new OpsError(ErrorCode.RELEASE_TOO_LARGE, `the bundle's ${manifest.size} bytes are more than releases.maxBundleMB allows (${this.opts.maxBundleBytes} bytes)`);
    }
    if (contentLength !== undefined && contentLength > manifest.size) {
      throw new OpsError(ErrorCode.RELEASE_TOO_LARGE, `the upload's ${contentLength} bytes are more than the ${manifest.size} its manifest declares`);
    }
    const em = contextEm(this.orm);
    if (await em.findOne(Release, { version: manifest.version, platform: manifest.platform, arch: manifest.arch })) {
      throw this.duplicate(manifest);
    }
    await this.store.put(body, manifest);
    const release = em.create(Release, {
      id: randomUUID(), version: manifest.version, component: manifest.component, platform: manifest.platform, arch: manifest.arch,
      file: manifest.file, size: manifest.size, sha256: manifest.sha256, manifest: signed.manifest, signature: signed.signature,
      keyId: signed.keyId.slice(0, 32), createdAt: new Date(manifest.createdAt), expiresAt: new Date(manifest.expiresAt), notes: manifest.notes ?? '',
      uploadedAt: new Date(), uploadedBy: by.owner ?? by.name,
    });
    try {
      await em.flush();
    } catch (err) {
      // Another upload of the same version won the race: its file is the one now in place, and the
      // same name means the same signed size and hash, so leave it.
      if (isUniqueViolation(err)) throw this.duplicate(manifest);
      this.store.remove(manifest.file);
      throw err;
    }
    this.log.info({ version: manifest.version, platform: manifest.platform, arch: manifest.arch, size: manifest.size, by: by.name }, 'release stored');
    return releaseView(release);
  }

  private duplicate(m: ReleaseManifest): OpsError {
    return new OpsError(ErrorCode.CONFLICT, `release ${m.version} for ${m.platform}-${m.arch} is stored already; a version is never replaced: release a new one`);
  }

  /** Every stored build, newest version first. */
  async list(): Promise<ReleaseView[]> {
    const rows = await contextEm(this.orm).find(Release, {}, { disableIdentityMap: true });
    return rows.sort((a, b) => compareVersions(b.version, a.version) || a.platform.localeCompare(b.platform) || a.arch.localeCompare(b.arch)).map(releaseView);
  }

  async get(version: string): Promise<ReleaseDetail> {
    const builds = await this.builds(version);
    if (builds.length === 0) throw new OpsError(ErrorCode.NOT_FOUND, `no release ${version} on this manager (see opsctl release ls)`);
    return { version, builds: builds.map((r) => ({ ...releaseView(r), manifest: r.manifest, signature: r.signature })) };
  }

  /** The builds of a version, one per platform and arch (empty when none); `em`: the caller's, outside a request. */
  builds(version: string, em: EntityManager = contextEm(this.orm)): Promise<Release[]> {
    return em.find(Release, { version }, { orderBy: { platform: 'asc', arch: 'asc' } });
  }

  /** The stored bundle a host asks for (FetchRelease), or null. */
  async bundle(version: string, platform: string, arch: string): Promise<{ file: string; size: number } | null> {
    const r = await this.orm.em.fork().findOne(Release, { version, platform, arch });
    if (!r) return null;
    const size = this.store.size(r.file);
    if (size === undefined) {
      this.log.error({ version, platform, arch, file: r.file }, 'a stored release has no bundle on disk');
      return null;
    }
    return { file: r.file, size };
  }
}
