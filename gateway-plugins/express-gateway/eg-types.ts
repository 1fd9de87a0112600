// The few express-gateway shapes the plugin touches (its bundled index.d.ts does not type-check,
// see /work/shared/notes/node-stack.md), declared from its lib/ sources.
import type { IncomingMessage } from 'node:http';

export interface EgContext {
  requestID?: string;
  /** The matched apiEndpoints entry plus its name. */
  apiEndpoint?: {
    apiEndpointName?: string;
    paths?: string | string[];
    path?: string | string[];
    pathRegex?: string;
  };
}

export interface EgRequest extends IncomingMessage {
  egContext?: EgContext;
  /** The authenticated consumer set by passport: a user or an application record. */
  user?: { id?: string; type?: string };
}

export interface EgPolicy {
  name: string;
  schema: { $id: string; [k: string]: unknown };
  policy: (params: Record<string, unknown>, config: unknown) => unknown;
}

export interface EgPluginContext {
  settings: Record<string, unknown>;
  logger?: { error?: (msg: string) => void; info?: (msg: string) => void };
  registerPolicy(policy: EgPolicy): void;
  registerGatewayRoute?(declare: (app: unknown) => void): void;
  registerAdminRoute?(declare: (app: EgAdminApp) => void): void;
}

/** The admin API's express app, as far as the plugin uses it. */
export interface EgAdminApp {
  get(path: string, handler: (req: unknown, res: { json(body: unknown): void }) => void): void;
}
