// Captures log lines from the broker's Logger and from InvocationContext log handlers, for assertions and leak checks.
import { InvocationContext } from '@azure/functions';
import type { Logger } from '../../shared/logging.js';

export interface Captured {
  readonly lines: string[];
  readonly log: Logger;
  /** A real InvocationContext whose log handler records into `lines`. */
  context(functionName?: string): InvocationContext;
}

export function capture(): Captured {
  const lines: string[] = [];
  return {
    lines,
    log: {
      info: (m) => void lines.push(`info ${m}`),
      warn: (m) => void lines.push(`warn ${m}`),
      error: (m) => void lines.push(`error ${m}`),
    },
    context: (functionName = 'test') =>
      new InvocationContext({ functionName, logHandler: (level, ...args) => void lines.push(`${level} ${args.map(String).join(' ')}`) }),
  };
}
