// Defaults the function modules need when they load; imports nothing, so registering a function stays cheap.
export const DEFAULT_REFRESH_SCHEDULE = '0 */5 * * * *';
