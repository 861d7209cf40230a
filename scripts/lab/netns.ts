// The lab's network: a namespace holding a bridge, and one namespace per node with its own
// address on it (a veth pair made inside the namespaces: the root namespace gets no interface).
// Traffic stays on the bridge and each namespace's loopback.
import { exec } from './exec';

export const SUBNET = '10.77.0';

export interface LabNode {
  readonly name: string;
  /** The namespace (`ip netns exec NS ...`). */
  readonly ns: string;
  readonly address: string;
}

export class LabNetwork {
  private readonly namespaces: string[] = [];

  private constructor(
    readonly prefix: string,
    private readonly bridgeNs: string,
  ) {}

  /** `prefix` names every namespace (`r2lab-1a2b-`), so several labs and leftovers never collide. */
  static async create(prefix: string): Promise<LabNetwork> {
    const bridgeNs = `${prefix}net`;
    const network = new LabNetwork(prefix, bridgeNs);
    await network.addNamespace(bridgeNs);
    await exec('ip', ['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await exec('ip', ['-n', bridgeNs, 'link', 'set', 'br0', 'up']);
    return network;
  }

  /** A namespace with `lo` up and `eth0` at SUBNET.host/24 on the bridge. */
  async addNode(name: string, host: number): Promise<LabNode> {
    const ns = `${this.prefix}${name}`;
    const address = `${SUBNET}.${host}`;
    await this.addNamespace(ns);
    const port = `v-${name}`.slice(0, 15);
    await exec('ip', ['-n', this.bridgeNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    await exec('ip', ['-n', this.bridgeNs, 'link', 'set', port, 'master', 'br0', 'up']);
    await exec('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    await exec('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    return { name, ns, address };
  }

  /**
   * Kills (SIGKILL, by pid) whatever still runs in the lab's namespaces -- children that outlived
   * the processes the lab started, such as nginx's workers -- then deletes every namespace made
   * (their interfaces go with them). Never throws; says what it could not do.
   */
  async destroy(): Promise<string[]> {
    const failed: string[] = [];
    for (const ns of this.namespaces) {
      const pids = await exec('ip', ['netns', 'pids', ns]).catch(() => '');
      for (const pid of pids.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch (error) {
          failed.push(`${ns}: pid ${pid}: ${String(error)}`);
        }
      }
    }
    for (const ns of this.namespaces.splice(0).reverse()) {
      await exec('ip', ['netns', 'del', ns]).catch((error: unknown) => failed.push(`${ns}: ${String(error)}`));
    }
    return failed;
  }

  private async addNamespace(ns: string): Promise<void> {
    await exec('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await exec('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  }
}

/** Whether this machine lets us make a network namespace (root, CAP_SYS_ADMIN, iproute2): the reason when not. */
export async function namespacesUnavailable(): Promise<string | undefined> {
  const probe = `r2lab-probe-${process.pid}`;
  try {
    await exec('ip', ['netns', 'add', probe]);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  await exec('ip', ['netns', 'del', probe]).catch(() => undefined);
  return undefined;
}
