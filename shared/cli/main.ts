#!/usr/bin/env node
// The `maskinporten-broker` command line (npm bin; `npm run keygen` / `npm run token`): dispatches to a command
// and turns its outcome into an exit code; errors print their safe message only, never a stack or a cause.
import { EXIT, processIo, UsageError, type Io } from './args.js';
import { keygenCommand } from './keygen-command.js';
import { describeError, tokenCommand } from './token-command.js';

const USAGE = `Usage: maskinporten-broker <command> [options]

Commands:
  keygen <name>   create a Maskinporten client key pair: public JWK for the portal, private key for Key Vault
  token           mint one token with the app's settings and print its claims (checks a client registration)

Run "maskinporten-broker <command> --help" for a command's options.
`;

const COMMANDS: Readonly<Record<string, (args: readonly string[], io: Io) => Promise<number>>> = {
  keygen: keygenCommand,
  token: tokenCommand,
};

async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.err : io.out)(USAGE);
    return command === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) {
    io.err(`Unknown command ${JSON.stringify(command)}: use one of ${Object.keys(COMMANDS).join(', ')}.\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  try {
    return await run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\nRun "maskinporten-broker ${command} --help" for usage.\n`);
      return EXIT.USAGE;
    }
    io.err(`${describeError(err)}\n`);
    return EXIT.FAILED;
  }
}

/** Exits once stdout and stderr have drained (open Key Vault / fetch sockets must not keep the process alive). */
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(exit, (err: unknown) => {
  process.stderr.write(`${describeError(err)}\n`);
  exit(EXIT.FAILED);
});
