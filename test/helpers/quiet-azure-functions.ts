// Jest setupFiles: @azure/functions prints a "test mode" banner and one "Skipping call to register" line per
// function whenever a function module is imported outside the Functions host, which every test file that loads
// one does; expected here (the host-main log line says so for `npm run host`). Exactly those messages are
// dropped; every other console.warn is printed as before.
export const AZURE_FUNCTIONS_TEST_MODE = [
  /^WARNING: Failed to detect the Azure Functions runtime\. Switching "@azure\/functions" package to test mode - not all features are supported\.$/,
  /^WARNING: Skipping call to (?:register function "[^"]*"|register \w+ hook|dispose \w+ hook) because the "@azure\/functions" package is in test mode\.$/,
];

const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  const [first] = args;
  if (args.length === 1 && typeof first === 'string' && AZURE_FUNCTIONS_TEST_MODE.some((re) => re.test(first))) return;
  warn(...args);
};
