// An express-gateway plugin whose one policy, `noop`, only calls next(): bench:gateway's floor
// row, the cost of any policy at all in an express-gateway pipeline.
export const version = '1.2.0';
export const policies = ['noop'];
export const schema = { $id: 'https://meshtrace.dev/schemas/bench-noop-plugin.json', type: 'object' };

interface PluginContext {
  registerPolicy(policy: { name: string; schema: object; policy: () => unknown }): void;
}

export function init(ctx: PluginContext): void {
  ctx.registerPolicy({
    name: 'noop',
    schema: { $id: 'https://meshtrace.dev/schemas/bench-noop-policy.json', type: 'object' },
    policy: () => (_req: unknown, _res: unknown, next: () => void) => next(),
  });
}
