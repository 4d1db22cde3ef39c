/** Options shared by every command that talks to Temporal. */
import type { Command } from 'commander';
import { DEFAULT_ADDRESS, DEFAULT_NAMESPACE, type ServerTarget } from '../infra/temporal/connection';

export interface ServerFlags {
  address?: string;
  namespace: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsServerName?: string;
  apiKeyEnv?: string;
}

export function addServerOptions(cmd: Command): Command {
  return cmd
    .option('--address <host:port>', `an existing Temporal server or cluster (default: the embedded dev server on ${DEFAULT_ADDRESS})`)
    .option('--namespace <name>', 'Temporal namespace', DEFAULT_NAMESPACE)
    .option('--tls-cert <file>', 'client certificate (PEM) for mTLS to a cluster')
    .option('--tls-key <file>', 'client private key (PEM) for mTLS to a cluster')
    .option('--tls-server-name <name>', 'TLS server name override')
    .option('--api-key-env <VAR>', 'environment variable holding a Temporal Cloud API key');
}

export function targetOf(flags: ServerFlags): ServerTarget {
  return {
    address: flags.address ?? DEFAULT_ADDRESS,
    namespace: flags.namespace,
    tlsCertPath: flags.tlsCert,
    tlsKeyPath: flags.tlsKey,
    tlsServerName: flags.tlsServerName,
    apiKeyEnv: flags.apiKeyEnv,
  };
}
