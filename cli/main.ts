// `meshtrace <command> [args]` — a thin dispatcher. Each command lives in
// cli/commands/<command>.ts and exports `run(args: string[]): Promise<number>` (the exit code)
// plus a one-line `summary`, so adding a command never touches this file.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const commandsDir = join(dirname(fileURLToPath(import.meta.url)), 'commands');

function available(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function load(name: string): Promise<Command> {
  return (await import(pathToFileURL(join(commandsDir, `${name}.ts`)).href)) as Command;
}

async function usage(): Promise<string> {
  const lines = ['usage: meshtrace <command> [options]', '', 'commands:'];
  for (const name of available()) lines.push(`  ${name.padEnd(12)} ${(await load(name)).summary}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    console.log(await usage());
    return name === undefined ? 2 : 0;
  }
  if (!/^[a-z][a-z0-9-]*$/.test(name) || !existsSync(join(commandsDir, `${name}.ts`))) {
    console.error(`meshtrace: unknown command '${name}'\n\n${await usage()}`);
    return 2;
  }
  return (await load(name)).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`meshtrace: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
