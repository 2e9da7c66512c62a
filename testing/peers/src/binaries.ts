/**
 * Theory of operation: where each peer's binary is. Every peer is a Debian package's server; its
 * binary is where that package puts it (`/usr/sbin/…`) unless an environment variable names
 * another (`TETHER_NGINX`, `TETHER_HAPROXY`, `TETHER_APACHE`, `TETHER_LIGHTTPD`). The table is the
 * one place that knows the names; the error for a missing binary says which package installs it.
 */

/** The servers this package starts. */
export type PeerKind = 'nginx' | 'haproxy' | 'apache' | 'lighttpd';

/** What is known of one peer's binary. */
export interface PeerBinary {
  /** The environment variable that names another binary. */
  readonly env: string;
  /** Where the Debian package puts it. */
  readonly path: string;
  /** The Debian package that installs it (`apt-get install --no-install-recommends <package>`). */
  readonly debianPackage: string;
}

/** Each peer's binary: its env override, Debian's path, Debian's package. */
export const PEER_BINARIES: Readonly<Record<PeerKind, PeerBinary>> = {
  nginx: { env: 'TETHER_NGINX', path: '/usr/sbin/nginx', debianPackage: 'nginx' },
  haproxy: { env: 'TETHER_HAPROXY', path: '/usr/sbin/haproxy', debianPackage: 'haproxy' },
  apache: { env: 'TETHER_APACHE', path: '/usr/sbin/apache2', debianPackage: 'apache2' },
  lighttpd: { env: 'TETHER_LIGHTTPD', path: '/usr/sbin/lighttpd', debianPackage: 'lighttpd' },
};

/** The binary of `kind`: its environment variable when set (and not empty), else Debian's path. */
export function peerBinary(kind: PeerKind, env: NodeJS.ProcessEnv = process.env): string {
  const binary = PEER_BINARIES[kind];
  const named = env[binary.env];
  return named === undefined || named === '' ? binary.path : named;
}

/**
 * Where Apache's loadable modules are (Debian's apache2-bin), for a config's `LoadModule` lines:
 * `TETHER_APACHE_MODULES` when set, else Debian's.
 */
export function apacheModules(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.TETHER_APACHE_MODULES;
  return named === undefined || named === '' ? '/usr/lib/apache2/modules' : named;
}

/** The message for a binary that is not there: what to install, or which variable names another. */
export function missingBinaryMessage(kind: PeerKind, binary: string): string {
  const { env, debianPackage } = PEER_BINARIES[kind];
  return `${binary} not found: this needs Debian's ${debianPackage} (apt-get install --no-install-recommends ${debianPackage}; .ci/run installs it), or ${env} naming a ${kind} binary`;
}
