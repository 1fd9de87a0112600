// Shared body of `meshtrace ext-proc` and `meshtrace ext-authz`: parse flags, load and validate
// the config (exit 2 with the field named on error), serve until SIGTERM/SIGINT, drain, exit 0.
import { ConfigError, loadConfigFile } from './config.ts';
import { quietStreamResets } from './grpc-process.ts';
import { startService } from './server.ts';

export async function runService(command: string, args: string[]): Promise<number> {
  let configPath: string | undefined;
  let port: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--config' || a === '-c') configPath = args[++i];
    else if (a?.startsWith('--config=')) configPath = a.slice('--config='.length);
    else if (a === '--port') port = Number(args[++i]);
    else if (a === '-h' || a === '--help') {
      console.log(
        `usage: meshtrace ${command} --config <file.yaml> [--port N]\n(see ext-authz/README.md for the config)`,
      );
      return 0;
    } else {
      console.error(`meshtrace ${command}: unknown argument '${a}'`);
      return 2;
    }
  }
  if (!configPath) {
    console.error(`meshtrace ${command}: --config <file.yaml> is required`);
    return 2;
  }
  let cfg: ReturnType<typeof loadConfigFile>;
  try {
    cfg = loadConfigFile(configPath);
    if (port !== undefined) {
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('--port', 'must be 0..65535');
      cfg.listen.port = port;
    }
  } catch (err) {
    console.error(`meshtrace ${command}: invalid configuration: ${(err as Error).message}`);
    return 2;
  }
  // Handlers go in before the (slow, module-loading) start so a SIGTERM that arrives early still
  // means "drain and exit 0" rather than Node's default kill.
  let signalled = false;
  let wake = () => {};
  const onSignal = () => {
    signalled = true;
    wake();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const svc = await startService(cfg);
    quietStreamResets();
    // Parsers (tests, supervisors) read the bound port from this line.
    console.log(
      JSON.stringify({
        ts: new Date().toISOString(),
        level: 'info',
        msg: 'ready',
        command,
        port: svc.port,
        metrics_port: svc.metricsPort,
      }),
    );
    if (!signalled)
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    await svc.stop();
    return 0;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
