// Preloaded into Jest's processes by `npm test` (NODE_OPTIONS --require): drops exactly one known warning, Node's
// "VM Modules is an experimental feature" (Jest needs --experimental-vm-modules for this ESM project, and Node
// repeats the warning in every worker). Every other warning, experimental or not, is printed as before.
'use strict';
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type;
  const message = typeof warning === 'string' ? warning : warning && warning.message;
  if (type === 'ExperimentalWarning' && typeof message === 'string' && message.startsWith('VM Modules is an experimental feature')) return;
  return emitWarning.call(this, warning, ...rest);
};
