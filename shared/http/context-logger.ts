// Adapts an Azure Functions InvocationContext (or anything with log/warn/error) to the core's Logger, redacted.
import { redactingLogger, type Logger } from '../logging.js';

export interface ContextLike {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export function contextLogger(ctx: ContextLike): Logger {
  return redactingLogger({ info: (m) => ctx.log(m), warn: (m) => ctx.warn(m), error: (m) => ctx.error(m) });
}
